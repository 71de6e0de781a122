"""A config runs no code it should not: through the real `isoloop` CLI, in a subprocess.

Each hostile config exits 2 with one `error:` line and no traceback, writes no
run folder, and leaves no marker file behind (docs/security.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.cli_run import one_error_line, run_isoloop

ROOT = Path(__file__).resolve().parents[2]
SMA = "strategy: {class: 'isoloop.examples.sma_cross:SmaCross', params: {fast: 10, slow: 30}}\n"
DATA = "data: {source: 'sample:GOOG'}\n"
BACKTEST_BP = (ROOT / "containers" / "backtest.yaml").read_text()
SIM_VENUE = 'class: isoloop.venues.simulated:SimulatedVenue\n    args: {settings: "@config.venue"}'


def project(tmp_path: Path, blueprint: str, config: str = SMA + DATA) -> Path:
    """A config naming a blueprint file of the user's; returns the config path."""
    (tmp_path / "mine.yaml").write_text(blueprint)
    path = tmp_path / "run.yaml"
    path.write_text(config + "container: mine.yaml\n")
    return path


def refused(tmp_path: Path, config: Path, command: str, env: dict[str, str] | None = None) -> str:
    args = [command, str(config)] + (["--out", "out"] if command == "backtest" else [])
    line = one_error_line(run_isoloop(*args, cwd=tmp_path, env=env))
    out = tmp_path / "out"
    assert not out.exists() or list(out.iterdir()) == []
    return line


def popen_slot(marker: Path) -> str:
    return f"class: subprocess:Popen\n    args: {{args: [touch, {marker}]}}"


@pytest.mark.parametrize("command", ["validate", "backtest"])
def test_a_popen_venue_runs_nothing(tmp_path: Path, command: str) -> None:
    marker = tmp_path / "PWNED"
    config = project(tmp_path, BACKTEST_BP.replace(SIM_VENUE, popen_slot(marker)))
    line = refused(tmp_path, config, command)
    assert "mine.yaml" in line and "slot 'venue'" in line
    assert "subprocess.Popen" in line and "isoloop.engine.venue.Venue" in line
    assert not marker.exists()


@pytest.mark.parametrize("command", ["validate", "backtest"])
def test_a_popen_in_an_extra_slot_runs_nothing(tmp_path: Path, command: str) -> None:
    marker = tmp_path / "PWNED"
    built = tmp_path / "BUILT"
    blueprint = BACKTEST_BP + f"  zzz:\n    {popen_slot(marker)}\n"
    strategy = (
        "strategy: {class: 'support.isoloop_test_strategies:MarksWhenBuilt', "
        f"params: {{marker: '{built}'}}}}\n"
    )
    line = refused(tmp_path, project(tmp_path, blueprint, strategy + DATA), command)
    assert "slot 'zzz'" in line and "standard-library class" in line
    assert not marker.exists()
    assert not built.exists()  # refused before any slot was built, the last one included


@pytest.mark.parametrize("command", ["validate", "backtest"])
def test_config_references_do_not_follow_dunders(tmp_path: Path, command: str) -> None:
    evil = SIM_VENUE.replace("@config.venue", "@config.__class__.__init__.__globals__")
    line = refused(tmp_path, project(tmp_path, BACKTEST_BP.replace(SIM_VENUE, evil)), command)
    assert "slot 'venue'" in line and "'__class__'" in line and "not a plain field name" in line


@pytest.mark.parametrize("where", ["strategy", "blueprint"])
def test_a_module_outside_the_allow_list_is_not_imported(tmp_path: Path, where: str) -> None:
    marker = tmp_path / "IMPORTED"
    env = {"ISOLOOP_ALLOWED_MODULES": "mycompany", "ISOLOOP_TEST_IMPORT_MARKER": str(marker)}
    if where == "strategy":
        config = tmp_path / "run.yaml"
        config.write_text("strategy: {class: 'support.import_marker:MarkerStrategy'}\n" + DATA)
    else:
        blueprint = BACKTEST_BP + "  zzz: support.import_marker:MarkerStrategy\n"
        config = project(tmp_path, blueprint)
    for command in ("validate", "backtest"):
        line = refused(tmp_path, config, command, env)
        assert "'support.import_marker'" in line and "ISOLOOP_ALLOWED_MODULES" in line
        assert not marker.exists()
    # Allowed, the same module is imported (so the marker above could have appeared).
    allowed = run_isoloop(
        "validate",
        str(config),
        cwd=tmp_path,
        env={**env, "ISOLOOP_ALLOWED_MODULES": "mycompany,support"},
    )
    assert allowed.returncode == 0, allowed.stderr
    assert marker.exists()


def test_validate_builds_no_component_and_a_backtest_does(tmp_path: Path) -> None:
    built = tmp_path / "BUILT"
    config = tmp_path / "run.yaml"
    config.write_text(
        "strategy: {class: 'support.isoloop_test_strategies:MarksWhenBuilt', "
        f"params: {{marker: '{built}'}}}}\n" + DATA
    )
    checked = run_isoloop("validate", str(config), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "MarksWhenBuilt on GOOG 2148 bars" in checked.stdout
    assert not built.exists()
    ran = run_isoloop("backtest", str(config), "--json", "--no-report", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert built.exists()


def test_validate_checks_strategy_params_without_building_the_strategy(tmp_path: Path) -> None:
    built = tmp_path / "BUILT"
    config = tmp_path / "run.yaml"
    config.write_text(
        "strategy: {class: 'support.isoloop_test_strategies:MarksWhenBuilt', "
        f"params: {{marker: '{built}', extra: 1}}}}\n" + DATA
    )
    line = refused(tmp_path, config, "validate")
    assert "run.yaml" in line and "MarksWhenBuilt takes only `marker`" in line
    assert not built.exists()


def test_the_shipped_basis_blueprint_still_runs(tmp_path: Path) -> None:
    config = tmp_path / "basis.yaml"
    config.write_text(
        "strategy: {class: 'isoloop.examples.basis:BasisTrade', params: {units: 5, exit_bar: 50}}\n"
        + DATA
        + "container: basis\n"
    )
    assert run_isoloop("validate", str(config), cwd=tmp_path).returncode == 0
    ran = run_isoloop("backtest", str(config), "--json", "--no-report", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["stats"]["trades"] == 2
