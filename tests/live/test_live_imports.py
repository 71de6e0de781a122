"""No module of the live package imports, even lazily or for typing, one that imports it back."""

from __future__ import annotations

from pathlib import Path

import isoloop
from support.layers import imports

SRC = Path(isoloop.__file__).resolve().parent


def _module(file: str) -> str:
    return "isoloop." + file.removesuffix(".py").replace("/", ".")


def module_cycles(package: str) -> list[list[str]]:
    """Cycles between the modules of `package` (package `__init__` re-exports left out)."""
    graph: dict[str, set[str]] = {}
    for imp in imports(SRC):
        src = _module(imp.file)
        if imp.file.startswith(f"{package}/") and not imp.file.endswith("__init__.py"):
            graph.setdefault(src, set())
            if imp.module.startswith(f"isoloop.{package}.") and imp.module != src:
                graph[src].add(imp.module)
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == path[0]:
                cycles.append([*path, nxt])
            elif nxt not in path and nxt > path[0]:  # each cycle once, from its least module
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    return cycles


def test_no_import_cycle_between_live_modules() -> None:
    assert module_cycles("live") == []
    # The control API serves the manager through a protocol it declares itself.
    api = [i.module for i in imports(SRC) if i.file == "live/control/api.py"]
    assert "isoloop.live.manager" not in api
