"""Suite or sweep -> list[RunSpec]. Pure: it decides what to run, not how (`--dry-run` prints it)."""
from __future__ import annotations

from bench.ablations import AblationSpec, set_config_value
from bench.datasets import DataSource
from bench.errors import BenchError
from bench.specs import RunSpec

PROFILES = ("smoke", "cpu", "paper")


def method_config(method: str, profile: str) -> dict:
    from bench.methods import METHODS

    if profile not in PROFILES:
        raise BenchError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    return METHODS.get(method).default_config(profile)


def plan_suite(source: DataSource, methods: list[str], profile: str, seeds: list[int]) -> list[RunSpec]:
    return [RunSpec(suite=source.suite.name, method=m, config=method_config(m, profile), seed=s,
                    manifest_sha256=source.manifest.sha256, profile=profile, data=source.tag)
            for m in methods for s in seeds]


def plan_ablation(source: DataSource, ablation: AblationSpec, values: list, profile: str,
                  seeds: list[int]) -> list[RunSpec]:
    base = method_config(ablation.method, profile)
    return [RunSpec(suite=source.suite.name, method=ablation.method,
                    config=set_config_value(base, ablation.config_key, v), seed=s,
                    manifest_sha256=source.manifest.sha256, profile=profile, data=source.tag)
            for v in values for s in seeds]
