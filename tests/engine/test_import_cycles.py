"""No engine module imports another that imports it back, however indirectly.

Every import counts: at the top of a module, inside a function (the usual way
to dodge a cycle, which only hides it until the function runs first), and
under `if TYPE_CHECKING:`. A cycle means two modules can only be understood,
changed or loaded together: decode.py and codec.py once imported each other
through function-local imports, and a format could not be added without
touching both.
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "py" / "pixelpress"


def module_name(path: Path) -> str:
    parts = ("pixelpress",) + path.relative_to(ENGINE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, known: set[str]) -> set[str]:
    """The engine modules `path` imports, anywhere in it."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from .formats import avif` imports the submodule too; `from .decode import sniff` a name.
            targets = [origin] + [f"{origin}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def graph() -> dict[str, set[str]]:
    files = sorted(ENGINE.rglob("*.py"))
    known = {module_name(p) for p in files}
    return {module_name(p): imports(p, known) for p in files}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as a sorted list."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_walk_sees_the_imports_that_matter():
    edges = graph()
    assert "pixelpress.formats.heic" in edges["pixelpress.formats"]  # the registry lists each format
    assert "pixelpress.browser" in edges["pixelpress.decode"]
    assert "pixelpress.decode" in edges["pixelpress.operation"]  # function-local there: counted
    assert "pixelpress.provider" in edges["pixelpress.browser_probes"]  # under TYPE_CHECKING too


def test_the_cycle_finder_finds_one_through_a_function_local_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_engine_module_imports_itself_back():
    found = cycles(graph())
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)
