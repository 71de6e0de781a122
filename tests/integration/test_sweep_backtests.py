"""Sweeps of real backtests: identical results on every executor and worker count."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from isoloop.cli import main
from isoloop.sweep.runner import SweepResult, run_sweep
from support.browser import render, requires_chromium

ROOT = Path(__file__).resolve().parents[2]

SWEEP_30: dict[str, Any] = {
    "kind": "sweep",
    "base": {
        "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {}},
        "data": {"source": "sample:GOOG"},
        "venue": {"cash": 10_000, "commission": 0.002},
    },
    "space": {"fast": [5, 10, 15, 20, 25, 30], "slow": {"range": [40, 90, 10]}},
    "constraint": "fast < slow",
    "objective": {"metric": "sqn", "direction": "maximize"},
    "search": {"method": "grid"},
    "executor": {"kind": "serial"},
}


def sweep(kind: str, workers: int = 2, **extra: Any) -> SweepResult:
    return run_sweep(SWEEP_30, **{"executor.kind": kind, "executor.workers": workers, **extra})


def per_trial(result: SweepResult) -> dict[int, tuple[str, str]]:
    t = result.trials
    return {int(r.trial_id): (r.status, r.digest) for r in t.itertuples()}


def pids(result: SweepResult) -> set[int]:
    return {int(str(w).rsplit(":", 1)[1]) for w in result.trials["worker"]}


@pytest.fixture(scope="module")
def serial() -> SweepResult:
    result = sweep("serial")
    assert result.total == 30 and result.done == 30 and result.failed == 0
    return result


def test_serial_reference_is_complete_and_sorted(serial: SweepResult) -> None:
    assert list(serial.trials["trial_id"]) == list(range(30))
    assert serial.trials["digest"].notna().all()
    assert len(set(serial.trials["digest"])) == 30  # every parameter set trades differently


@pytest.mark.parametrize(("kind", "workers"), [("thread", 4), ("process", 1), ("process", 2)])
def test_local_executors_reproduce_serial(serial: SweepResult, kind: str, workers: int) -> None:
    result = sweep(kind, workers)
    assert result.digest == serial.digest
    assert per_trial(result) == per_trial(serial)
    if kind == "process":
        assert os.getpid() not in pids(result)
        assert len(pids(result)) == workers
    pd.testing.assert_series_equal(result.trials["sqn"], serial.trials["sqn"])


@pytest.mark.distributed
@pytest.mark.parametrize("kind", ["dask", "ray"])
def test_cluster_executors_reproduce_serial(serial: SweepResult, kind: str) -> None:
    pytest.importorskip("distributed" if kind == "dask" else "ray")
    result = sweep(kind, 2)
    assert result.digest == serial.digest
    assert per_trial(result) == per_trial(serial)
    # Run in the cluster's worker processes, not the driver (how many workers got a
    # trial is the scheduler's business: on a busy box one may take them all).
    assert pids(result) and os.getpid() not in pids(result)


def test_resume_runs_only_missing_trials(tmp_path: Path, serial: SweepResult) -> None:
    store = tmp_path / "s.sqlite"
    first = sweep("serial", store=str(store), constraint="fast < slow and fast <= 15")
    assert first.executed == 15
    # A different constraint is a different sweep: the store refuses to mix them.
    with pytest.raises(Exception, match="different sweep"):
        sweep("serial", store=str(store))
    again = sweep("serial", store=str(tmp_path / "t.sqlite"))
    resumed = sweep("serial", store=str(tmp_path / "t.sqlite"))
    assert again.executed == 30 and resumed.executed == 0 and resumed.resumed == 30
    assert resumed.digest == serial.digest


def test_cli_sweep_json_shape_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "sweep.yaml"
    cfg.write_text(json.dumps({**SWEEP_30, "base": str(ROOT / "configs" / "goog_sma.yaml")}))
    code = main(
        [
            "sweep",
            str(cfg),
            "--executor",
            "serial",
            "--json",
            "--out",
            str(tmp_path / "out"),
            "--store",
            str(tmp_path / "s.sqlite"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    payload = json.loads(out)
    assert set(payload) == {
        "sweep_id",
        "trials_total",
        "trials_done",
        "trials_failed",
        "best",
        "digest",
        "failures",
        "warnings",
        "store",
        "objectives",
        "pareto",
        "optuna_storage",
    }
    assert payload["failures"] == {} and payload["warnings"] == []
    # One objective: the front is the best trial (and any trial tied with it).
    assert payload["objectives"] == [{"name": "sqn", "direction": "maximize", "function": None}]
    assert [p["params"] for p in payload["pareto"]] == [payload["best"]["params"]]
    assert payload["store"] == str(tmp_path / "s.sqlite")
    assert payload["trials_total"] == 30 and payload["trials_failed"] == 0
    assert set(payload["best"]) == {"params", "stats"}
    assert set(payload["best"]["params"]) == {"fast", "slow"}
    report = tmp_path / "out" / payload["sweep_id"] / "report.html"
    text = report.read_text()
    assert "Heatmap" in text or "heatmap" in text
    assert (tmp_path / "out" / payload["sweep_id"] / "trials.csv").is_file()


def test_bad_sweep_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "sweep.yaml"
    cfg.write_text(json.dumps({**SWEEP_30, "constraint": "__import__('os').system('true')"}))
    assert main(["sweep", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.browser
@requires_chromium
def test_sweep_report_renders_in_chromium(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "sweep.yaml"
    cfg.write_text(json.dumps(SWEEP_30))
    code = main(["sweep", str(cfg), "--executor", "serial", "--json", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    page = tmp_path / json.loads(out)["sweep_id"] / "report.html"
    rendered = render(page)
    assert rendered.console_errors == []
    assert rendered.dom.count('class="main-svg"') >= 2  # equity curve and heatmap drawn
    assert "Best trial" in rendered.dom
