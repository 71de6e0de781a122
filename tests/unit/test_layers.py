"""The layering of DESIGN.md holds: every import in src/ points down, no package cycle, small files."""

from __future__ import annotations

import shutil
from pathlib import Path

import isoloop
from support.layers import package_cycles, violations

SRC = Path(isoloop.__file__).resolve().parent
MAX_LINES = 450


def test_every_import_points_down_the_layers() -> None:
    assert violations(SRC) == []


def test_no_package_level_import_cycle() -> None:
    assert package_cycles(SRC) == []


def test_a_wrong_way_import_fails_the_layer_check(tmp_path: Path) -> None:
    tree = tmp_path / "isoloop"
    shutil.copytree(SRC, tree, ignore=shutil.ignore_patterns("__pycache__"))
    # The kernel reaching up into the sweep package: exactly what the layering forbids.
    shared = tree / "scope" / "shared.py"
    shared.write_text(shared.read_text() + "\n\ndef _up() -> None:\n    import isoloop.sweep\n")
    found = violations(tree)
    assert len(found) == 1
    assert found[0].startswith("scope/shared.py:")
    assert "'scope' (layer 3) may not import 'sweep' (layer 7)" in found[0]
    assert package_cycles(tree) != []  # sweep imports scope, so this also closes a cycle


def test_importing_the_cli_is_refused(tmp_path: Path) -> None:
    tree = tmp_path / "isoloop"
    shutil.copytree(SRC, tree, ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "live" / "late.py").write_text("from isoloop.cli import main\n")
    assert violations(tree) == ["live/late.py:1 imports isoloop.cli: nothing imports the CLI"]


def test_engine_does_not_import_venues_but_venues_may_import_engine(tmp_path: Path) -> None:
    tree = tmp_path / "isoloop"
    shutil.copytree(SRC, tree, ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "engine" / "late.py").write_text("import isoloop.venues.simulated\n")
    (tree / "venues" / "late.py").write_text("from isoloop.engine.venue import Venue\n")
    found = violations(tree)
    assert len(found) == 1 and found[0].startswith("engine/late.py:1")


def test_no_source_file_over_the_size_limit() -> None:
    big = {
        str(p.relative_to(SRC)): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert big == {}, f"split these by job (limit {MAX_LINES} lines)"
