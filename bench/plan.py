"""Suite or sweep -> list[RunSpec]. Pure: it decides what to run, not how (`--dry-run` prints it)."""
from __future__ import annotations

import itertools

from bench.ablations import AblationSpec, Sweep, set_config_value
from bench.data.datasets import DataSource
from bench.errors import BenchError
from bench.recipes import PROFILES
from bench.specs import RunSpec, canonical_json


def method_config(method: str, profile: str, fit_on: str | None = None) -> dict:
    """The method's config for a profile; with `fit_on`, under that suite protocol."""
    from bench.methods import METHODS

    if profile not in PROFILES:
        raise BenchError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    cls = METHODS.get(method)
    config = cls.default_config(profile)
    return config if fit_on is None else cls.with_protocol(config, fit_on)


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

    if method in CONFIG_CHECKS:
        check = CONFIG_CHECKS.get(method)
    else:  # the recipe's own values are the schema: types, and signs of numbers
        cls = METHODS.get(method)
        defaults = {k: v for k, v in cls.default_config("cpu").items()
                    if k not in cls.OWN_CHECKS}
        check_like_defaults(method, config, defaults)
        check = cls.check_config
    try:
        check(dict(config))
    except (TypeError, ValueError, KeyError) as exc:  # e.g. int('abc') inside a check
        raise BenchError(f"{method} config: {type(exc).__name__}: {exc}") from None


def check_like_defaults(method: str, config: dict, defaults: dict, path: str = "",
                        ranges: bool = True) -> None:
    """Each field of `config` that the method's defaults also have must be of the default's
    type (an int may stand for a float), nested dicts field by field; with `ranges`, a count (an
    int default >= 1) must stay >= 1 and a non-negative number non-negative (a method whose
    own check knows its ranges, where 0 may mean "off", passes False). None defaults accept
    anything."""
    for key, default in defaults.items():
        if key not in config or default is None:
            continue
        value, name = config[key], f"{path}{key}"
        if isinstance(default, dict) and isinstance(value, dict):
            check_like_defaults(method, value, default, f"{name}.", ranges)
            continue
        numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, type(default))
        if not ok:
            kind = type(default).__name__
            raise BenchError(f"{method} config: {name}={value!r}; expected "
                             f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} like its default "
                             f"{default!r}")
        floor = 1 if isinstance(default, int) and default >= 1 else 0
        if ranges and numeric and default >= 0 and value < floor:
            raise BenchError(f"{method} config: {name}={value!r}; expected >= {floor}")


def plan_suite(source: DataSource, methods: list[str], profile: str, seeds: list[int]) -> list[RunSpec]:
    fit_on = source.suite.fit_on_for(profile)
    return [RunSpec(suite=source.suite.name, method=m, config=method_config(m, profile, fit_on),
                    seed=s,
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
    base = method_config(sweep.method, profile, source.suite.fit_on_for(profile))
    for key, value in sweep.fixed.items():
        base = set_config_value(base, key, value)
    specs = []
    for combo in itertools.product(*grids):
        config = base
        for key, value in zip(sweep.config_keys, combo):
            config = set_config_value(config, key, value)
        specs += [RunSpec(suite=source.suite.name, method=sweep.method, config=config, seed=s,
                          manifest_sha256=source.manifest.sha256, profile=profile,
                          data=source.ref) for s in seeds]
    return specs
