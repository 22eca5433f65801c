"""The package's import graph: no cycles between bench's modules, no private names imported from
another module (a leading underscore means "this module's business")."""
import ast
from pathlib import Path

import bench

ROOT = Path(bench.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, list[tuple[str, list[str]]]]:
    """module -> [(imported bench module, names taken from it)], at any depth of the file
    (imports inside functions count: they run too, only later)."""
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                edges += [(a.name, []) for a in node.names if a.name.startswith("bench")]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                    + ([base] if base else []))
                if not base.startswith("bench"):
                    continue
                for alias in node.names:  # `from bench.x import y` may import module bench.x.y
                    sub = f"{base}.{alias.name}"
                    edges.append((sub, []) if sub in modules else (base, [alias.name]))
        graph[name] = [(target, names) for target, names in edges
                       if target in modules and target != name]
    return graph


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w, _ in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _is_parent_package(importer: str, target: str) -> bool:
    # a package's __init__ may re-export from its own modules; that is not a cycle in design
    return importer.startswith(target + ".")


def test_no_import_cycles_between_modules():
    graph = {m: [(t, n) for t, n in edges if not _is_parent_package(m, t)]
             for m, edges in _imports().items()}
    assert _cycles(graph) == []


def test_no_private_names_imported_from_another_module():
    private = sorted(f"{m} imports {t}.{n}" for m, edges in _imports().items()
                     for t, names in edges for n in names
                     if n.startswith("_") and not n.startswith("__"))
    assert private == []


def test_the_checker_finds_a_cycle():
    assert _cycles({"a": [("b", [])], "b": [("c", [])], "c": [("a", [])], "d": []}) == [
        ["a", "b", "c"]]
