"""The project's shape: every package stands on the one below it, and no modules import each other.

Floors: ``ingest`` (ground) ← ``assistant`` ← ``eval``. Every import counts, including the
ones inside functions (a lazy import is still a dependency). Fails with the offending edges.
"""

from __future__ import annotations

import ast
from pathlib import Path

from assistant.settings import PROJECT_ROOT

FLOORS = {"ingest": 0, "assistant": 1, "eval": 2}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PROJECT_ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _graph() -> dict[str, set[str]]:
    modules = {
        _module_name(p): p for pkg in FLOORS for p in (PROJECT_ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts
    }
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for t in targets:
                # the longest project module the import names (``from assistant import glossary``)
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != name and not name.startswith(t + "."):  # a package's own __init__ is not an edge
                    graph[name].add(t)
    return graph


def test_graph_sees_the_project() -> None:
    graph = _graph()
    assert {"ingest.pipeline", "assistant.service", "assistant.modes.qa", "eval.run"} <= set(graph)
    assert "ingest.index" in graph["assistant.service"]


def test_no_package_imports_a_floor_above_it() -> None:
    upward = [
        f"{a} -> {b}"
        for a, deps in _graph().items()
        for b in deps
        if FLOORS[b.split(".")[0]] > FLOORS[a.split(".")[0]]
    ]
    assert not upward, upward


def test_no_import_cycles() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strongconnect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    assert not cycles, cycles
