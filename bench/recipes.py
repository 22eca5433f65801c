"""Recipe files: a method's profiles as one TOML file in `baselines/`, the only place their
values live. `[base]` names every knob; each other table is a profile overriding some of them."""
from __future__ import annotations

import functools
import tomllib

from bench.errors import BenchError
from bench.paths import content_dir


@functools.cache
def _read(name: str) -> dict[str, dict]:
    path = content_dir("baselines") / f"{name}.toml"
    try:
        tables = tomllib.loads(path.read_text())
    except OSError as exc:
        raise BenchError(f"recipe file {path}: cannot read it ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise BenchError(f"recipe file {path}: not valid TOML ({exc})") from None
    if not isinstance(tables.get("base"), dict):
        raise BenchError(f"recipe file {path}: expected a [base] table with every knob")
    for profile, table in tables.items():
        if not isinstance(table, dict):
            raise BenchError(f"recipe file {path}: {profile!r} must be a table of knobs")
        unknown = sorted(set(table) - set(tables["base"]))
        if unknown:
            raise BenchError(f"recipe file {path}: [{profile}] sets {unknown}, which [base] "
                             f"does not name")
    return tables


def profiles(name: str) -> tuple[str, ...]:
    """The profiles a recipe file defines, in file order."""
    return tuple(p for p in _read(name) if p != "base")


def base(name: str) -> dict:
    """Every knob of a recipe file with its `[base]` value."""
    return dict(_read(name)["base"])


def resolve(name: str, profile: str) -> dict:
    """`[base]` with `[profile]` on top: a fresh dict (callers may change it)."""
    tables = _read(name)
    if profile == "base" or profile not in tables:
        raise BenchError(f"{name}: unknown profile {profile!r}; expected one of "
                         f"{profiles(name)} (baselines/{name}.toml)")
    return {**tables["base"], **tables[profile]}
