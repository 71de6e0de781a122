"""The import layering of DESIGN.md as data, and a checker that reads a source tree's imports.

The checker reads the AST (every `import`, including ones inside functions and
under `TYPE_CHECKING`), so a lazy import that runs the wrong way is caught too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Bottom to top; a package may import packages on lower layers only.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "logging", "lazy"}),
    frozenset({"config", "model"}),
    frozenset({"data"}),
    frozenset({"scope"}),
    frozenset({"engine", "venues", "results"}),
    frozenset({"examples"}),
    frozenset({"backtest"}),
    frozenset({"sweep"}),
    frozenset({"live"}),
    frozenset({"validate", "notebook", "cli_sweep", "reference"}),
    # compat's Backtest is built on the notebook's (backtesting.py users get the same runs).
    frozenset({"compat"}),
    frozenset({"cli", "__init__", "__main__"}),
)
# Same-layer arrows the design allows: venues implement the Venue protocol engine owns,
# and model speaks in error codes.
ALLOWED_SIDEWAYS: frozenset[tuple[str, str]] = frozenset(
    {("venues", "engine"), ("model", "errors")}
)
NEVER_IMPORTED = frozenset({"cli"})


@dataclass(frozen=True)
class Import:
    file: str
    line: int
    source: str  # top-level package of the importing file
    target: str  # top-level package imported
    module: str  # the full module named


def layer_of(package: str) -> int:
    for i, layer in enumerate(LAYERS):
        if package in layer:
            return i
    raise KeyError(f"package {package!r} is not in DESIGN.md's layering; add it to LAYERS")


def _package(root: Path, path: Path) -> str:
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imports(root: Path) -> Iterator[Import]:
    """Every `isoloop.*` import in the tree under `root` (the `src/isoloop` folder)."""
    for path in sorted(root.rglob("*.py")):
        source = _package(root, path)
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                parts = name.split(".")
                if parts[0] != "isoloop":
                    continue
                target = parts[1] if len(parts) > 1 else "__init__"
                yield Import(str(path.relative_to(root)), node.lineno, source, target, name)


def violations(root: Path) -> list[str]:
    """Imports that point up the layering (or sideways where not allowed), as readable lines."""
    found = []
    for imp in imports(root):
        if imp.source == imp.target:
            continue
        if imp.target in NEVER_IMPORTED:
            found.append(f"{imp.file}:{imp.line} imports {imp.module}: nothing imports the CLI")
            continue
        src, dst = layer_of(imp.source), layer_of(imp.target)
        if dst < src or (imp.source, imp.target) in ALLOWED_SIDEWAYS:
            continue
        found.append(
            f"{imp.file}:{imp.line} imports {imp.module}: {imp.source!r} (layer {src}) may not "
            f"import {imp.target!r} (layer {dst}); move the shared part down or invert the call"
        )
    return found


def package_cycles(root: Path) -> list[list[str]]:
    """Cycles in the package graph (every import counted, lazy ones too)."""
    graph: dict[str, set[str]] = {}
    for imp in imports(root):
        if imp.source != imp.target:
            graph.setdefault(imp.source, set()).add(imp.target)
    cycles: list[list[str]] = []
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    cycles.append([*path, start])
                elif nxt not in path and nxt > start:
                    stack.append((nxt, [*path, nxt]))
    return cycles
