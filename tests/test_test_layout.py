"""The tests' own layout: the folders mirror the package (tests/data/ntu/ tests bench/data/ntu/),
shared helpers live in conftest.py (fixtures) or plain modules such as
toys.py, never in another test_*.py file (importing one runs its module-level skips and
fixtures, and `sys.path.insert` hides where a name comes from); `pytest.importorskip` only
guards optional extras, so a broken required dependency or bench module fails instead of
turning into a silent skip."""
import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PYPROJECT = TESTS.parent / "pyproject.toml"

# Files allowed to break a rule for a while (each must still break one, so a fixed file leaves
# this set and cannot hide a new problem); none today.
PENDING: set[str] = set()


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def required_distributions() -> set[str]:
    """[project].dependencies of pyproject.toml, names only (extras are optional)."""
    deps = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return {_norm(re.match(r"[A-Za-z0-9_.-]+", d)[0]) for d in deps}


def _is_required(module: str, required: set[str], dists: dict[str, list[str]]) -> bool:
    top = module.split(".")[0]
    if top == "bench":
        return True
    names = {_norm(d) for d in dists.get(top, [])} | {_norm(top)}
    return bool(names & required)


def problems(source: str, required: set[str], dists: dict[str, list[str]]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top = node.module.split(".")[0]
            if top.startswith("test_") or top == "tests":
                found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top.startswith("test_") or top == "tests":
                    found.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if ast.unparse(func) in ("sys.path.insert", "sys.path.append"):
                found.append(f"line {node.lineno}: {ast.unparse(func)}")
            elif (name == "importorskip" and node.args
                  and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str)
                  and _is_required(node.args[0].value, required, dists)):
                found.append(f"line {node.lineno}: importorskip({node.args[0].value!r}) on a "
                             "required dependency or bench module: import it")
    return found


@pytest.fixture(scope="module")
def rules():
    return required_distributions(), packages_distributions()


def test_required_dependencies_come_from_pyproject(rules):
    required, dists = rules
    assert {"torch", "mmaction2", "transformers", "peft", "scikit-learn", "numpy"} <= required
    assert not {"ray", "submitit", "tensorboard", "pytest"} & required  # extras stay optional
    assert _is_required("sklearn.metrics", required, dists)  # module name != distribution
    assert _is_required("mmaction", required, dists) and _is_required("cv2", required, dists)
    assert _is_required("bench.data.ntu.skeleton", required, dists)
    assert not _is_required("ray", required, dists) and not _is_required("wandb", required, dists)


@pytest.mark.parametrize("source, bad", [
    ("from test_knn import toy_bundle", True),
    ("def f():\n    import test_report", True),
    ("from tests.toys import REST", True),
    ("import sys\nsys.path.insert(0, 'tests')", True),
    ("import pytest\ntorch = pytest.importorskip('torch')", True),
    ("from pytest import importorskip\nimportorskip('bench.store')", True),
    ("from toys import part_swing_bundle", False),
    ("from session_procs import start_bench", False),
    ("import pytest\npytest.importorskip('ray')\npytest.importorskip('submitit')", False),
])
def test_the_check_catches_what_it_should(rules, source, bad):
    assert bool(problems(source, *rules)) is bad


def test_tests_import_no_test_file_and_skip_only_optional_extras(rules):
    found, fixed = {}, []
    for path in sorted(TESTS.rglob("*.py")):
        issues = problems(path.read_text(), *rules)
        if path.name in PENDING:
            if not issues:
                fixed.append(path.name)
        elif issues:
            found[str(path.relative_to(TESTS))] = issues
    assert not found, ("shared helpers go to conftest.py (fixtures) or toys.py (builders); "
                       f"importorskip is for extras only: {found}")
    assert not fixed, f"{fixed} now follow the rules: remove them from PENDING"


def test_test_folders_mirror_the_package():
    """tests/X/Y/ exists only where bench/X/Y/ is a package, and the test files' names stay
    unique (pytest's prepend import mode imports each by its bare name)."""
    package = TESTS.parent / "bench"
    folders = {p.parent for p in TESTS.rglob("test_*.py")} - {TESTS}
    strays = [str(f.relative_to(TESTS)) for f in folders
              if not (package / f.relative_to(TESTS) / "__init__.py").is_file()]
    assert not strays, f"test folders without a bench package of the same path: {strays}"
    names = [p.name for p in TESTS.rglob("*.py") if p.name != "conftest.py"]
    assert len(names) == len(set(names)), "two test modules share a name"
