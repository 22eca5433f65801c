"""Suite or sweep -> list[RunSpec]. Pure: it decides what to run, not how (`--dry-run` prints it)."""
from __future__ import annotations

import itertools

from bench.ablations import AblationSpec, Sweep, set_config_value
from bench.datasets import DataSource
from bench.errors import BenchError
from bench.specs import RunSpec, canonical_json

PROFILES = ("smoke", "cpu", "paper")


def method_config(method: str, profile: str) -> dict:
    from bench.methods import METHODS

    if profile not in PROFILES:
        raise BenchError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    return METHODS.get(method).default_config(profile)


def check_configs(specs: list[RunSpec]) -> list[RunSpec]:
    """Every planned run's config checked by its method before anything runs; the specs as given."""
    checked = set()
    for spec in specs:
        key = (spec.method, canonical_json(spec.config))  # seeds repeat a config: check it once
        if key not in checked:
            checked.add(key)
            check_config(spec.method, spec.config)
    return specs


def check_config(method: str, config: dict) -> None:
    """One config checked by its method (a one-line BenchError), as at plan time."""
    from bench.methods import CONFIG_CHECKS, METHODS

    check = (CONFIG_CHECKS.get(method) if method in CONFIG_CHECKS
             else METHODS.get(method).check_config)
    try:
        check(dict(config))
    except (TypeError, ValueError, KeyError) as exc:  # e.g. int('abc') inside a check
        raise BenchError(f"{method} config: {type(exc).__name__}: {exc}") from None


def plan_suite(source: DataSource, methods: list[str], profile: str, seeds: list[int]) -> list[RunSpec]:
    return [RunSpec(suite=source.suite.name, method=m, config=method_config(m, profile), seed=s,
                    manifest_sha256=source.manifest.sha256, profile=profile, data=source.ref)
            for m in methods for s in seeds]


def plan_ablation(source: DataSource, ablation: AblationSpec, values: list, profile: str,
                  seeds: list[int]) -> list[RunSpec]:
    """One axis: the runs of `values` x `seeds`."""
    return plan_sweep(source, Sweep((ablation,)), [values], profile, seeds)


def plan_sweep(source: DataSource, sweep: Sweep, grids: list[list], profile: str,
               seeds: list[int]) -> list[RunSpec]:
    """The cartesian product of the axes' grids, times the seeds (seeds vary fastest)."""
    if not seeds:
        raise BenchError("--seeds: expected at least one seed")
    base = method_config(sweep.method, profile)
    specs = []
    for combo in itertools.product(*grids):
        config = base
        for key, value in zip(sweep.config_keys, combo):
            config = set_config_value(config, key, value)
        specs += [RunSpec(suite=source.suite.name, method=sweep.method, config=config, seed=s,
                          manifest_sha256=source.manifest.sha256, profile=profile,
                          data=source.ref) for s in seeds]
    return specs
