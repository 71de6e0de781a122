"""A user's own blueprint, next to their config, is found and pinned; old class paths still load."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from isoloop.config.classpath import import_class
from support.cli_run import run_isoloop

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """\
strategy: {class: "isoloop.examples.sma_cross:SmaCross", params: {fast: 10, slow: 30}}
data: {source: "sample:GOOG"}
container: mine
"""


def _isoloop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_isoloop(*args, cwd=cwd, timeout=120)


def test_blueprint_in_the_configs_containers_folder_is_used_from_any_folder(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    (project / "containers").mkdir(parents=True)
    blueprint = (ROOT / "containers" / "backtest.yaml").read_text()
    # The user's variant: fills everything at once with no costs, so its result differs.
    mine = blueprint.replace(
        'class: isoloop.venues.simulated:SimulatedVenue\n    args: {settings: "@config.venue"}',
        "class: isoloop.venues.passthrough:PassthroughVenue",
    )
    assert mine != blueprint
    (project / "containers" / "mine.yaml").write_text(mine)
    (project / "run.yaml").write_text(CONFIG)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    done = _isoloop("backtest", str(project / "run.yaml"), "--out", "out", "--json", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    manifest = json.loads((elsewhere / out["run_dir"] / "manifest.json").read_text())
    assert manifest["config"]["container"] == str((project / "containers" / "mine.yaml").resolve())

    default = (ROOT / "configs" / "goog_sma.yaml").read_text()
    (project / "default.yaml").write_text(default)
    base = _isoloop(
        "backtest", str(project / "default.yaml"), "--out", "out", "--json", cwd=elsewhere
    )
    assert base.returncode == 0, base.stderr
    assert json.loads(base.stdout)["digest"] != out["digest"]  # the user's venue was used

    # The pinned path lets verify re-run it from yet another folder.
    shutil.move(str(elsewhere / "out"), str(tmp_path / "moved"))
    run_dir = tmp_path / "moved" / Path(out["run_dir"]).name
    check = _isoloop("verify", str(run_dir), cwd=tmp_path)
    assert check.returncode == 0, check.stderr


def test_a_moved_class_path_loads_with_a_deprecation_warning_naming_the_new_one() -> None:
    with pytest.warns(DeprecationWarning, match=r"isoloop\.backtest\.driver:BacktestEngine"):
        old = import_class("isoloop.engine.backtest:BacktestEngine", where="blueprint x: engine")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = import_class("isoloop.backtest.driver:BacktestEngine", where="blueprint x: engine")
    assert old is new
