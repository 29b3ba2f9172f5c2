"""The package's structure: no import cycles (late imports inside functions count too), no Streamlit
in the library, no torch in the pages."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO_ROOT

PKG = REPO_ROOT / "corgan_core"


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO_ROOT).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def _resolve(current: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".") if is_pkg else current.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    """Edges module -> corgan_core module it imports (anywhere in the file). Importing ``pkg.sub``
    from outside ``pkg`` also runs ``pkg/__init__``, so that is an edge too; a module's own parent
    packages are not (they are already being imported when it runs)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, is_pkg, node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for t in targets:
                while t and t not in mods:
                    t = t.rsplit(".", 1)[0] if "." in t else ""
                while t and t != "corgan_core":
                    if t != mod and not mod.startswith(t + "."):
                        graph[mod].add(t)
                    t = t.rsplit(".", 1)[0]
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_late_imports():
    g = import_graph()
    assert "corgan_core.runs.store" in g["corgan_core.runs.execute"]
    assert "corgan_core.models" in g["corgan_core.runs.store"]  # imported inside Run.create


def test_no_import_cycles_in_corgan_core():
    assert _cycles(import_graph()) == []


def test_the_library_never_imports_streamlit():
    for mod, deps in import_graph().items():
        src = _modules()[mod].read_text()
        assert "import streamlit" not in src and "from streamlit" not in src, mod


def test_pages_import_no_torch_and_only_the_library_and_dashboard():
    for page in sorted((REPO_ROOT / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(page.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for n in names:
                assert n.split(".")[0] in ("streamlit", "corgan_core", "dashboard", "pandas", "numpy", "json",
                                           "io", "__future__"), f"{page.name} imports {n}"
                assert not n.startswith("torch"), f"{page.name} imports {n}"
