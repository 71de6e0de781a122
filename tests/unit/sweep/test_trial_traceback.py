"""A failed sweep trial keeps its stack trace in the store; its error stays one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isoloop.model.modes import ExecutionMode
from isoloop.sweep import SweepStore
from isoloop.sweep.runner import load_sweep, run_sweep, write_sweep_outputs
from isoloop.sweep.trial import sweep_mode


def failing_sweep(tmp_path: Path, kind: str) -> Path:
    cfg = tmp_path / f"failing-{kind}.yaml"
    sweep = {
        "kind": "sweep",
        "base": {
            "name": "failing",
            "data": {"source": "synthetic:gbm?bars=120&seed=5"},
            "strategy": {"class": "support.isoloop_test_strategies:RaisesOnBar", "params": {}},
        },
        "space": {"bar": [5, 500]},  # bar 500 never comes: that trial succeeds
        "objective": {"metric": "equity_final", "direction": "maximize"},
        "search": {"method": "grid"},
        "executor": {"kind": kind, "workers": 1},
        "store": str(tmp_path / f"{kind}.sqlite"),
    }
    cfg.write_text(json.dumps(sweep))
    return cfg


@pytest.mark.parametrize("kind", ["serial", "process"])
def test_the_store_keeps_a_failing_trials_stack_trace(tmp_path: Path, kind: str) -> None:
    result = run_sweep(failing_sweep(tmp_path, kind))
    assert result.failures["error"].first_error == "RuntimeError: strategy bug at bar 5"
    with SweepStore(tmp_path / f"{kind}.sqlite") as store:
        rows = {r["trial_id"]: r for r in store.rows()}
    failed = next(r for r in rows.values() if r["status"] == "error")
    ok = next(r for r in rows.values() if r["status"] == "ok")
    assert failed["error"] == "RuntimeError: strategy bug at bar 5"  # the one-line summary
    trace = failed["traceback"]
    assert trace.startswith("Traceback (most recent call last)")
    assert "in on_bar" in trace and "isoloop_test_strategies.py" in trace
    assert trace.rstrip().endswith("RuntimeError: strategy bug at bar 5")
    assert ok["traceback"] is None
    assert "traceback" in result.trials.columns


def test_a_sweeps_summary_records_its_execution_mode(tmp_path: Path) -> None:
    cfg = failing_sweep(tmp_path, "serial")
    result = run_sweep(cfg)
    folder = write_sweep_outputs(result, load_sweep(cfg), tmp_path / "out").parent
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["mode"] == "BACKTEST_PARALLEL"  # a grid search
    assert summary["digest"] == result.digest  # the mode is recorded, never hashed
    assert sweep_mode("optuna") is ExecutionMode.OPTIMIZATION
