"""The import graph of the package, drawn from the source: no cycle anywhere, layers in order.

Every import counts: module level, inside functions, and under `if TYPE_CHECKING:` (a type-only
import still ties two modules together for a reader and for a type checker). Layers, lowest
first: `engine/` < `stores/` < `http/` < `documented/` < `faces/` < `pytest_plugin/`; a module
imports only from its own layer or the ones below (so the stores import the engine only), and
neither `engine/` nor `stores/` imports an HTTP library.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "together_eval_emulator"
SOURCES = {PACKAGE: ROOT / "emulator", f"{PACKAGE}.pytest_plugin": ROOT / "pytest_plugin"}

LAYERS = ["engine", "stores", "http", "documented", "faces", "pytest_plugin"]
NO_HTTP = ("engine", "stores")  # the layers that import no HTTP library
HTTP_LIBRARIES = {"starlette", "httpx", "respx", "uvicorn"}

# Layer violations still tolerated, each as (importing module, imported module). None is left: the
# documented API plugs in through the extension point (`engine/_extension.py`, `http/_extension.py`).
# The test fails on an entry that no import uses any more, so the list stays honest.
ALLOWED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (ours) or top-level library name
    line: int
    ours: bool


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name."""
    found = {}
    for prefix, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([prefix, *parts])] = path
    return found


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imports(known: dict[str, Path]) -> list[Import]:
    """Every import statement of every module, resolved to our modules or to a library."""
    found: list[Import] = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            targets: list[str]
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = _package_of(module, path)
                    for _ in range(node.level - 1):
                        base = base.rpartition(".")[0]
                    base = f"{base}.{node.module}" if node.module else base
                else:
                    base = node.module or ""
                # `from package import module` imports the module; `from module import name`, the module.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            else:
                continue
            for target in targets:
                ours = target == PACKAGE or target.startswith(PACKAGE + ".")
                if ours:
                    while target not in known:  # `import a.b.c` of a name inside a module
                        target = target.rpartition(".")[0]
                found.append(Import(module, target if ours else target.split(".")[0], node.lineno, ours))
    return found


def layer(module: str) -> int | None:
    """A module's layer (0 = engine), or None for the package root (`__init__`, `__main__`, `_version`)."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return None


def short(module: str) -> str:
    return module.removeprefix(PACKAGE + ".")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component that has one (Tarjan, then a path)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)

    found = []
    for component in components:
        members = set(component)
        start = component[0]
        path, seen = [start], {start}
        node = start
        while True:  # walk inside the component until the walk comes back to a visited module
            nxt = min(n for n in edges[node] if n in members)
            if nxt in seen:
                found.append(path[path.index(nxt) :] + [nxt])
                break
            path.append(nxt)
            seen.add(nxt)
            node = nxt
    return found


def test_every_module_is_parsed() -> None:
    known = modules()
    assert f"{PACKAGE}.engine._store" in known and f"{PACKAGE}.pytest_plugin" in known
    assert all(path.is_file() for path in known.values())


def test_no_import_cycle() -> None:
    known = modules()
    edges: dict[str, set[str]] = {module: set() for module in known}
    for found in imports(known):
        if found.ours and found.target != found.source:
            edges[found.source].add(found.target)
    listed = [" -> ".join(short(m) for m in cycle) for cycle in cycles(edges)]
    assert not listed, "import cycles (TYPE_CHECKING and function-level imports included):\n" + "\n".join(listed)


def test_engine_and_stores_import_no_http_library() -> None:
    no_http = {LAYERS.index(name) for name in NO_HTTP}
    bad = [
        f"{short(i.source)}:{i.line} imports {i.target}"
        for i in imports(modules())
        if not i.ours and layer(i.source) in no_http and i.target in HTTP_LIBRARIES
    ]
    assert not bad, "\n".join(bad)


def test_layers_import_only_from_below() -> None:
    known = modules()
    found = imports(known)
    bad, used = [], set()
    for i in found:
        if not i.ours:
            continue
        own, other = layer(i.source), layer(i.target)
        if own is None or other is None or other <= own:
            if own is not None and other is None and short(i.target) != "_version":
                bad.append(f"{short(i.source)}:{i.line} imports the package root {short(i.target)}")
            continue
        pair = (short(i.source), short(i.target))
        if pair in ALLOWED:
            used.add(pair)
            continue
        bad.append(f"{pair[0]}:{i.line} ({LAYERS[own]}) imports {pair[1]} ({LAYERS[other]}), a layer above")
    assert not bad, "\n".join(bad)
    stale = sorted(ALLOWED - used)
    assert not stale, f"these allowed violations are gone; remove them from ALLOWED: {stale}"


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The parser itself: relative, absolute, function-level and TYPE_CHECKING imports all count."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import b\n"
        "if TYPE_CHECKING:\n    from ..c import X\n"
        "def f():\n    import together_eval_emulator.pytest_plugin.d\n    import httpx\n"
    )
    for name in ("sub/b.py", "c.py", "d.py"):
        (package / name).write_text("")
    SOURCES_BEFORE = dict(SOURCES)
    try:
        SOURCES.clear()
        SOURCES[PACKAGE] = package
        known = modules()
        known[f"{PACKAGE}.pytest_plugin.d"] = package / "d.py"
        edges = {(short(i.source), short(i.target)) for i in imports(known)}
    finally:
        SOURCES.clear()
        SOURCES.update(SOURCES_BEFORE)
    assert {("sub.a", "sub.b"), ("sub.a", "c"), ("sub.a", "pytest_plugin.d"), ("sub.a", "httpx")} <= edges
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
