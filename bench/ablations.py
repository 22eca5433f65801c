"""Ablation sweeps, one declarative TOML file each in the top-level ablations/ folder."""
from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field

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
    key: str = ""  # the method config key it sweeps; default: the name, less a "<method>." prefix
    # settings every run of the sweep needs for the axis to mean something (the file's [set]
    # table, like --set): e.g. the class-posterior projector needs a VST trained with labels
    fixed: dict = field(default_factory=dict)

    @property
    def config_key(self) -> str:
        prefix = self.method + "."  # `knn.frames` sweeps knn's `frames`, as an ad-hoc axis would
        return self.key or (self.name[len(prefix):] if self.name.startswith(prefix) else self.name)

    def grid(self, profile: str) -> list:
        """The profile's grid, else that of the nearest longer budget that has one (quick: cpu's;
        "paper" is always there)."""
        from bench.recipes import PROFILES

        longer = PROFILES[PROFILES.index(profile):] if profile in PROFILES else ("paper",)
        grid = next((self.values[p] for p in longer if self.values.get(p)), None)
        if not grid:
            raise BenchError(f"{self.name} has no default grid: give its values with --values")
        return list(grid)


@dataclass(frozen=True)
class Sweep:
    """One or more ablation axes of the same method, swept as their cartesian product.

    It reads like an AblationSpec (name, method, description, config_key of the first axis), so a
    one-axis sweep is exactly the old single ablation.
    """

    axes: tuple[AblationSpec, ...]

    @property
    def name(self) -> str:
        return ",".join(a.name for a in self.axes)

    @property
    def method(self) -> str:
        return self.axes[0].method

    @property
    def description(self) -> str:
        return "; ".join(a.description for a in self.axes)

    @property
    def default_suite(self) -> str:
        return self.axes[0].default_suite

    @property
    def config_key(self) -> str:
        return self.axes[0].config_key

    @property
    def config_keys(self) -> tuple[str, ...]:
        return tuple(a.config_key for a in self.axes)

    @property
    def fixed(self) -> dict:
        """The [set] settings of all axes (the swept values win over them)."""
        return {k: v for a in self.axes for k, v in a.fixed.items()}

    def grids(self, profile: str, values: str | None = None) -> list[list]:
        """Each axis's values: from `--values` ("8,16" for one axis, "8,16;2,4" for two), else
        the profile's grid of each axis."""
        if not values:
            return [a.grid(profile) for a in self.axes]
        groups = values.split(";")
        if len(groups) != len(self.axes):
            raise BenchError(f"--values {values!r}: {len(groups)} group(s) for {len(self.axes)} "
                             f"axes ({self.name}); separate the axes' values with ';'")
        grids = [[parse_value(v) for v in g.split(",") if v.strip()] for g in groups]
        for axis, grid in zip(self.axes, grids):
            if not grid:
                raise BenchError(f"--values {values!r}: no value for axis {axis.name}")
        return grids


def parse_value(text: str):
    text = text.strip()
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def resolve_sweep(text: str, registry: Registry | None = None) -> Sweep:
    """`vst.codebook` or `vst.codebook,lora.rank`: registered ablations, or ad-hoc axes written
    `<method>.<config key>` (e.g. `knn.frames`, given with --values)."""
    registry = registry or load_ablations()
    axes = []
    for name in (n.strip() for n in text.split(",")):
        if not name:
            raise BenchError(f"ablation {text!r}: empty axis name")
        axes.append(registry.get(name) if name in registry else _ad_hoc_axis(name, registry))
    if len({a.method for a in axes}) > 1:
        raise BenchError(f"ablation {text!r}: its axes sweep different methods "
                         f"({', '.join(sorted({a.method for a in axes}))}); a grid needs one")
    if len({a.config_key for a in axes}) < len(axes):
        raise BenchError(f"ablation {text!r}: an axis is named twice")
    return Sweep(tuple(axes))


def _ad_hoc_axis(name: str, registry: Registry) -> AblationSpec:
    from bench.methods import METHODS

    method, _, key = name.partition(".")
    if not key or method not in METHODS:
        raise BenchError(registry.unknown_message(name) + "; or name an ad-hoc axis as "
                         "<method>.<config key>")
    return AblationSpec(name=name, method=method, values={}, key=key,
                        description=f"`{key}` of {method}")


def config_value(config: dict, key: str):
    """The value of a flat dotted key, else of the nested path (None when absent)."""
    if key in config:
        return config[key]
    node = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def load_ablations() -> Registry:
    registry = Registry("ablation")
    for path in sorted(content_dir("ablations").glob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text())
            spec = AblationSpec(name=raw["name"], method=raw["method"], values=raw["values"],
                                description=raw["description"],
                                default_suite=raw.get("default_suite", "ntu60-xsub"),
                                key=raw.get("key", ""), fixed=raw.get("set", {}))
        except (tomllib.TOMLDecodeError, KeyError) as exc:
            raise BenchError(f"{path}: invalid ablation file ({exc}); expected keys name, "
                             f"method, description, a [values] table and an optional [set] "
                             f"table") from None
        if "paper" not in spec.values:
            raise BenchError(f"{path}: [values] needs a 'paper' grid")
        registry.register(spec.name, spec)
    return registry


def set_config_value(config: dict, key: str, value) -> dict:
    """A copy of config with `key` set: a flat dotted key if present, else a nested path."""
    new = copy.deepcopy(config)  # never share nested dicts with the base config
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
