"""Recipe files in `baselines/`, the only place a method's values live: a method's profiles as
one TOML file (`[base]` names every knob; each other table is a profile overriding some of
them), or, for the MMAction2 zoo, one config file per profile whose `bench = dict(...)` block is
the method config (`read_block`)."""
from __future__ import annotations

import ast
import functools
import tomllib
from pathlib import Path

from bench.errors import BenchError
from bench.paths import content_dir

# Every profile a run can name, shortest budget first; the one list the planner, the zoo, knn
# and LVLM-VAR's recipe file are checked against. smoke: tests (seconds); quick: a first look at
# a whole suite (synthetic NTU60 X-Sub in under 15 minutes on 2 cores, models undertrained);
# cpu: the CPU recipes the README's numbers come from; paper: the published recipes (GPUs).
PROFILES = ("smoke", "quick", "cpu", "paper")
# Which part of a split the runs are scored on (`--evaluate`; bench.specs.DataRef.evaluate).
EVALUATE = ("test", "val")


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


# --- `bench = dict(...)` blocks of MMAction2 baseline files (baselines/<model>_<profile>.py) ---
#
# A zoo baseline file is an MMAction2 config that also declares, at its top level, the method
# config bench runs it with: `bench = dict(epochs=30, lr=0.05, ...)`, the MMAction2 fields of the
# file referring to it (`train_cfg = dict(max_epochs=bench['epochs'])`). bench reads the block
# without executing the file (plan time must not import mmaction): a literal of dict(...), {...},
# lists, tuples, strings, numbers (a leading minus too), True, False and None. A file inheriting a
# local baseline file may start its block from the base's: `bench = dict(_base_.bench, lr=0.1)`
# (Python's dict(): each named key replaces the base's value whole).

BLOCK = "bench"


def read_block(path: Path) -> dict:
    """The `bench = dict(...)` block of a baseline file, evaluated as a literal (a fresh dict:
    the file is parsed on every call, cheap next to what the config then runs)."""
    return _block(Path(path).resolve(), ())


def _block(path: Path, seen: tuple) -> dict:
    if path in seen:
        raise BenchError(f"baseline file {path}: its {BLOCK} block inherits itself "
                         f"(through {' -> '.join(p.name for p in seen)})")
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except OSError as exc:
        raise BenchError(f"baseline file {path}: cannot read it ({exc.strerror or exc})") from None
    except SyntaxError as exc:
        raise BenchError(f"baseline file {path}: not valid Python (line {exc.lineno}: "
                         f"{exc.msg})") from None
    assigned = {node.targets[0].id: node for node in tree.body
                if isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)}
    if BLOCK not in assigned:
        raise BenchError(f"baseline file {path}: no top-level `{BLOCK} = dict(...)` block with "
                         f"the method config")
    node = assigned[BLOCK].value
    base = {}
    if isinstance(node, ast.Call) and node.args:  # dict(_base_.bench, key=value, ...)
        if len(node.args) > 1 or not _is_base_block(node.args[0]):
            raise BenchError(f"baseline file {path}, line {node.lineno}: the only positional "
                             f"argument {BLOCK} = dict(...) may take is _base_.{BLOCK}")
        base = _block(_base_file(path, assigned), seen + (path,))
        node = ast.Call(func=node.func, args=[], keywords=node.keywords)
        ast.copy_location(node, assigned[BLOCK].value)
    value = _literal(node, path)
    if not isinstance(value, dict):
        raise BenchError(f"baseline file {path}, line {node.lineno}: {BLOCK} must be a "
                         f"dict(...) of the method config, not {type(value).__name__}")
    return {**base, **value}


def _is_base_block(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == BLOCK
            and isinstance(node.value, ast.Name) and node.value.id == "_base_")


def _base_file(path: Path, assigned: dict) -> Path:
    node = assigned.get("_base_")
    target = node.value.value if node is not None and isinstance(node.value, ast.Constant) \
        else None
    if not isinstance(target, str) or "::" in target:
        raise BenchError(f"baseline file {path}: _base_.{BLOCK} needs `_base_` to name another "
                         f"baseline file of this folder (got {target!r})")
    return (path.parent / target).resolve()


def _literal(node: ast.AST, path: Path):
    """A literal's value; anything else (names, calls but dict, arithmetic) is a one-line error."""
    if isinstance(node, ast.Constant) and (node.value is None or
                                           isinstance(node.value, (bool, int, float, str))):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) in (int, float)):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, ast.List):
        return [_literal(item, path) for item in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_literal(item, path) for item in node.elts)
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) and
                                          isinstance(k.value, str) for k in node.keys):
        return {k.value: _literal(v, path) for k, v in zip(node.keys, node.values)}
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"
            and not node.args and all(kw.arg is not None for kw in node.keywords)):
        return {kw.arg: _literal(kw.value, path) for kw in node.keywords}
    raise BenchError(f"baseline file {path}, line {getattr(node, 'lineno', '?')}: {BLOCK} holds "
                     f"`{ast.unparse(node)}`, which is not a literal (dict(...), {{...}}, lists, "
                     f"numbers, strings, True, False, None)")
