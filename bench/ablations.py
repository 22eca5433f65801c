"""Ablation sweeps, one declarative TOML file each in the top-level ablations/ folder."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass

from bench.errors import BenchError
from bench.paths import content_dir
from bench.registry import Registry


@dataclass(frozen=True)
class AblationSpec:
    name: str  # e.g. "vst.codebook"
    method: str
    values: dict  # profile -> list of values; "paper" is the full grid
    description: str
    default_suite: str = "ntu60-xsub"
    key: str = ""  # the method config key it sweeps; defaults to the name

    @property
    def config_key(self) -> str:
        return self.key or self.name

    def grid(self, profile: str) -> list:
        return list(self.values.get(profile) or self.values["paper"])


def load_ablations() -> Registry:
    registry = Registry("ablation")
    for path in sorted(content_dir("ablations").glob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text())
            spec = AblationSpec(name=raw["name"], method=raw["method"], values=raw["values"],
                                description=raw["description"],
                                default_suite=raw.get("default_suite", "ntu60-xsub"),
                                key=raw.get("key", ""))
        except (tomllib.TOMLDecodeError, KeyError) as exc:
            raise BenchError(f"{path}: invalid ablation file ({exc}); expected keys name, "
                             f"method, description and a [values] table") from None
        if "paper" not in spec.values:
            raise BenchError(f"{path}: [values] needs a 'paper' grid")
        registry.register(spec.name, spec)
    return registry


def set_config_value(config: dict, key: str, value) -> dict:
    """A copy of config with `key` set: a flat dotted key if present, else a nested path."""
    new = {k: (dict(v) if isinstance(v, dict) else v) for k, v in config.items()}
    if key in new:
        new[key] = value
        return new
    node, parts = new, key.split(".")
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            raise BenchError(f"config has no key {key!r}; known keys: {sorted(config)}")
        node = node[part]
    if parts[-1] not in node:
        raise BenchError(f"config has no key {key!r}; known keys: {sorted(config)}")
    node[parts[-1]] = value
    return new
