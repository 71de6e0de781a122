"""Every third-party module src/ imports is a declared dependency of the package.

A module that is only installed because something else pulls it in breaks the day
that something drops it (typer stopped depending on click in 0.26). Imports inside
functions count too: the dask and ray backends are imported lazily, from extras.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "isoloop"


def imported_modules() -> dict[str, str]:
    """Top-level third-party module -> the first file that imports it."""
    found: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "isoloop" and top not in sys.stdlib_module_names:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def with_extras(requirement: Requirement) -> set[str]:
    """The requirement's distribution plus what its requested extras add."""
    names = {canonicalize_name(requirement.name)}
    for extra in requirement.extras:
        for raw in metadata.requires(requirement.name) or []:
            dep = Requirement(raw)
            if dep.marker is not None and dep.marker.evaluate({"extra": extra}):
                names.add(canonicalize_name(dep.name))
    return names


def declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime: set[str] = set()
    for raw in project["dependencies"]:
        runtime |= with_extras(Requirement(raw))
    extras: set[str] = set()
    for name, reqs in project["optional-dependencies"].items():
        if name != "dev":  # test tools are never imported by the package
            for raw in reqs:
                extras |= with_extras(Requirement(raw))
    return runtime, extras


def test_every_imported_module_is_declared() -> None:
    runtime, extras = declared()
    distributions = metadata.packages_distributions()
    undeclared = []
    for module, where in sorted(imported_modules().items()):
        dists = {canonicalize_name(d) for d in distributions.get(module, [])}
        if not dists & (runtime | extras):
            undeclared.append(f"{module} ({where}; installed by {sorted(dists) or 'nothing'})")
    assert undeclared == [], "declare these in [project].dependencies or an extra"


def test_click_is_not_imported() -> None:
    # typer vendors click; catching click's exceptions would miss typer's.
    assert "click" not in imported_modules()
