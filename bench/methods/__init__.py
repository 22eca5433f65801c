"""Method registry. Each method module says what it registers beside its classes, as a literal

    REGISTER = {"name": {"class": "ClassName", "tags": ["skeleton", ...]}, ...}

(optional "module": where the class lives if not here; "check": "module:function", a plan-time config check that spares importing the
method's heavy module). This package reads those literals without importing the modules (ast),
so `bench list methods` stays instant and a new method is one new module plus its recipe file.
Tags: skeleton | rgb (what it reads), explains (its predictions carry texts), mmaction (an
MMAction2 recognizer), harness (tests of the sweep machinery)."""
from __future__ import annotations

import ast
from pathlib import Path

from bench.errors import BenchError
from bench.registry import Registry

METHODS = Registry("method")
# Plan-time config checks of methods whose class does not define check_config itself.
CONFIG_CHECKS = Registry("config check")
TAGS: dict[str, tuple[str, ...]] = {}


def register_folder(folder: Path, package: str) -> None:
    """Register the REGISTER literals of every module under `folder` (the package `package`)."""
    for path in sorted(Path(folder).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "REGISTER" for t in node.targets):
                parts = path.relative_to(folder).with_suffix("").parts
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                module = ".".join((package, *parts))
                try:
                    entries = ast.literal_eval(node.value)
                except ValueError:
                    raise BenchError(f"{path}: REGISTER must be a literal dict "
                                     f"{{name: {{'class': ..., 'tags': [...]}}}}") from None
                for name, entry in entries.items():
                    METHODS.register(name, f"{entry.get('module', module)}:{entry['class']}")
                    TAGS[name] = tuple(entry.get("tags", ()))
                    if "check" in entry:
                        CONFIG_CHECKS.register(name, entry["check"])


def tagged(*tags: str) -> list[str]:
    """The registered methods that carry every one of `tags`."""
    return [name for name in METHODS.names() if set(tags) <= set(TAGS.get(name, ()))]


register_folder(Path(__file__).parent, __name__)
