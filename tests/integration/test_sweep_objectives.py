"""Sweep objectives end to end: functions of the stats, a Pareto front over several
objectives, a sampled grid (`max_tries`) and data sets in the space — through the CLI
and `run_sweep`, equal on the serial and process executors, resumable."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from isoloop import run_backtest
from isoloop.data.sources import sample_path
from isoloop.errors import InputError
from isoloop.sweep import SweepStore
from isoloop.sweep.objective import Objective, pareto_front
from isoloop.sweep.runner import run_sweep, validate_sweep_file
from support.cli_run import TESTS, one_error_line, run_isoloop

pytestmark = pytest.mark.timeout(300)

BASE: dict[str, Any] = {
    "name": "objectives",
    "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {"fast": 10}},
    "data": {"source": "sample:GOOG"},
    "venue": {"cash": 10_000, "commission": 0.002},
}

OBJECTIVES_PY = '''
import time

def calmish(stats):
    """Return per unit of drawdown; refuses trials whose trade count is 2 modulo 4."""
    if int(stats["trades"]) % 4 == 2:
        raise ValueError(f"refused trade count {int(stats['trades'])}")
    return stats["return_pct"] / (1.0 + abs(stats["max_drawdown_pct"]))

def undefined(stats):
    return float("nan")

def slow_sharpe(stats):
    time.sleep(0.15)
    return stats["sharpe_ratio"]
'''


def _write(tmp_path: Path, name: str, **over: Any) -> Path:
    (tmp_path / "my_objectives.py").write_text(OBJECTIVES_PY)
    sweep: dict[str, Any] = {
        "kind": "sweep",
        "base": BASE,
        "space": {"fast": [5, 10, 15, 20], "slow": [30, 40, 50]},
        "objective": {"metric": "sharpe_ratio"},
        "search": {"method": "grid"},
        "executor": {"kind": "serial"},
    }
    sweep.update(over)
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps(sweep))
    return path


def _sweep_json(cfg: Path, tmp_path: Path, *args: str, out: str = "out") -> dict[str, Any]:
    done = run_isoloop(
        "sweep", str(cfg), "--json", "--out", str(tmp_path / out), *args, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def test_a_function_objective_ranks_trials_and_a_raising_one_fails_only_its_trial(
    tmp_path: Path,
) -> None:
    cfg = _write(
        tmp_path, "fn", objective={"function": "my_objectives:calmish", "direction": "maximize"}
    )
    result = run_sweep(cfg, **{"executor.kind": "process"})
    trials = result.trials
    failed = trials[trials["status"] != "ok"]
    ok = trials[trials["status"] == "ok"]
    assert len(failed) and len(ok)  # both kinds happen on this grid
    assert set(failed["status"]) == {"error"}
    counts = [int(e.removeprefix("ValueError: refused trade count ")) for e in failed["error"]]
    assert all(n % 4 == 2 for n in counts)  # the function's own message, per trial
    assert (ok["trades"] % 4 == 0).all()
    expected = ok["return_pct"] / (1.0 + ok["max_drawdown_pct"].abs())
    assert (ok["calmish"] - expected).abs().max() < 1e-12
    top = ok.sort_values(["calmish", "trial_id"], ascending=[False, True]).iloc[0]
    assert result.best is not None and result.best.trial_id == int(top["trial_id"])
    assert result.best.value == pytest.approx(float(top["calmish"]), rel=1e-12)
    assert result.digest == run_sweep(cfg).digest  # serial: the same trials, the same digest
    # A function with no finite value fails every trial: the sweep says so (exit 1).
    nan = _write(tmp_path, "nan", objective={"function": "my_objectives:undefined"})
    done = run_isoloop("sweep", str(nan), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1
    assert "returned nan, not a finite number" in done.stdout


def _pareto_from_csv(path: Path, names: list[str], objs: list[Objective]) -> list[int]:
    with path.open() as f:
        rows = [r for r in csv.DictReader(f) if r["status"] == "ok"]
    entries = [(int(r["trial_id"]), tuple(float(r[n]) for n in names)) for r in rows]
    # brute force: not beaten on every objective by another trial
    signs = [o.sign() for o in objs]
    front = []
    for i, p in entries:
        beaten = any(
            all(s * a >= s * b for s, a, b in zip(signs, q, p, strict=True)) and q != p
            for j, q in entries
            if j != i
        )
        if not beaten:
            front.append(i)
    assert front == pareto_front(entries, objs)
    return sorted(front)


def test_several_objectives_give_the_same_pareto_front_on_every_executor(tmp_path: Path) -> None:
    objectives = [
        {"key": "return_pct", "direction": "maximize"},
        {"key": "max_drawdown_pct", "direction": "maximize"},  # drawdowns are negative
        {"function": "my_objectives:calmish", "name": "calm", "direction": "maximize"},
    ]
    cfg = _write(
        tmp_path,
        "multi",
        objective=None,
        objectives=objectives,
        space={"fast": [5, 8, 10, 15, 20], "slow": [30, 40, 50, 60]},
        constraint="fast < slow",
    )
    serial = _sweep_json(
        cfg, tmp_path, "--executor", "serial", "--store", str(tmp_path / "s.sqlite")
    )
    process = _sweep_json(
        cfg,
        tmp_path,
        "--executor",
        "process",
        "--store",
        str(tmp_path / "p.sqlite"),
        out="out-process",
    )
    for key in (
        "sweep_id",
        "trials_total",
        "trials_done",
        "trials_failed",
        "best",
        "digest",
        "failures",
        "warnings",
        "store",
    ):
        assert key in serial
    assert process["digest"] == serial["digest"]
    assert process["pareto"] == serial["pareto"]
    names = ["return_pct", "max_drawdown_pct", "calm"]
    objs = [Objective(n) for n in names]
    folder = tmp_path / "out" / serial["sweep_id"]
    front = _pareto_from_csv(folder / "trials.csv", names, objs)
    assert [p["trial_id"] for p in serial["pareto"]] == front and len(front) >= 2
    first = serial["pareto"][0]
    assert set(first) == {"trial_id", "params", "values"} and set(first["values"]) == set(names)
    # best: the front's best on the first objective
    best = max(serial["pareto"], key=lambda p: (p["values"]["return_pct"], -p["trial_id"]))
    assert serial["best"]["params"] == best["params"]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["pareto"] == serial["pareto"]
    assert "Pareto front" in (folder / "report.html").read_text()
    printed = run_isoloop(
        "sweep",
        str(cfg),
        "--executor",
        "serial",
        "--store",
        str(tmp_path / "s.sqlite"),
        "--out",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert printed.returncode == 0, printed.stderr
    assert "Pareto front" in printed.stdout and "0 run now" in printed.stdout


def test_optuna_multi_objective_study_resumes_to_the_same_front(tmp_path: Path) -> None:
    cfg = _write(
        tmp_path,
        "optuna",
        objective=None,
        objectives=[{"key": "sharpe_ratio"}, {"key": "max_drawdown_pct"}],
        space={"fast": {"range": [2, 30, 1]}, "slow": {"range": [20, 80, 5]}},
        constraint="fast < slow",
        search={"method": "optuna", "sampler": "nsga2", "trials": 12, "batch_size": 4, "seed": 3},
        store=str(tmp_path / "optuna.sqlite"),
    )
    first = run_sweep(cfg)
    assert first.done == 12 and first.failed == 0 and first.pareto_trials
    again = run_sweep(cfg, **{"executor.kind": "process"})
    assert again.executed == 0 and again.resumed == 12
    assert again.digest == first.digest and again.pareto_trials == first.pareto_trials
    fresh = run_sweep(cfg, **{"executor.kind": "process", "store": str(tmp_path / "b.sqlite")})
    assert fresh.digest == first.digest


def test_max_tries_runs_a_sample_of_the_grid_with_the_grid_s_ids(tmp_path: Path) -> None:
    full = run_sweep(_write(tmp_path, "full", constraint="fast < slow"))
    cfg = _write(
        tmp_path,
        "sampled",
        constraint="fast < slow",
        search={"method": "grid", "max_tries": 5, "seed": 11},
    )
    serial = run_sweep(cfg)
    process = run_sweep(cfg, **{"executor.kind": "process"})
    assert serial.total == serial.done == 5
    assert process.digest == serial.digest
    by_id = full.trials.set_index("trial_id")
    for _, row in serial.trials.iterrows():  # the same trial as in the full grid
        twin = by_id.loc[row["trial_id"]]
        assert (twin["param.fast"], twin["param.slow"], twin["digest"]) == (
            row["param.fast"],
            row["param.slow"],
            row["digest"],
        )
    half = run_sweep(cfg, **{"search.max_tries": 0.5})
    assert half.total == int(0.5 * full.total)


def test_data_sets_in_the_space_run_each_trial_on_its_own_bars(tmp_path: Path) -> None:
    shutil.copy(sample_path("EURUSD"), tmp_path / "eurusd.csv")  # a relative csv: path
    cfg = _write(
        tmp_path,
        "data",
        space={"data.source": ["sample:GOOG", "csv:eurusd.csv"], "fast": [5, 10]},
        base={**BASE, "strategy": {**BASE["strategy"], "params": {"slow": 20}}},
    )
    serial = _sweep_json(cfg, tmp_path, "--executor", "serial")
    process = _sweep_json(cfg, tmp_path, "--executor", "process", out="out-process")
    assert serial["trials_done"] == 4 and serial["trials_failed"] == 0
    assert process["digest"] == serial["digest"]
    result = run_sweep(cfg)
    assert result.digest == serial["digest"]
    assert run_sweep(cfg, **{"executor.kind": "thread"}).digest == serial["digest"]
    for _, row in result.trials.iterrows():
        source = row["param.data.source"]
        if source.startswith("csv:"):
            source = f"csv:{tmp_path / 'eurusd.csv'}"
        params = {"slow": 20, "fast": int(row["param.fast"])}
        run = run_backtest(
            {**BASE, "strategy": {**BASE["strategy"], "params": params}, "data": {"source": source}}
        )
        assert row["equity_final"] == run.stats["equity_final"]
        assert row["extra"]["data"] == run.fingerprints  # each trial records its data
    assert result.heatmap("data.source", "fast", stat="equity_final").shape == (2, 2)
    summary = validate_sweep_file(cfg)  # `isoloop validate` names each data set
    assert "data sets sample:GOOG (GOOG " in summary and "csv:eurusd.csv (eurusd " in summary


def test_bad_objectives_and_space_keys_are_one_error_line(tmp_path: Path) -> None:
    cases = [
        ({"objective": {"metric": "sharpe"}}, "sharpe"),
        ({"objective": {"function": "no_such_module:score"}}, "no_such_module"),
        ({"objective": {"function": "my_objectives:missing"}}, "missing"),
        ({"space": {"venue.comission": [0.001, 0.002]}}, "venue.comission"),
        ({"space": {"data.source": ["sample:NOPE"]}}, "sample:NOPE"),
    ]
    for over, needle in cases:
        with pytest.raises(InputError) as info:
            run_sweep(_write(tmp_path, "bad", **over))
        assert needle in str(info.value)
    # The CLI says it in one `error:` line and exits 2.
    cfg = _write(tmp_path, "bad", objective={"key": "sharpe"})
    line = one_error_line(
        run_isoloop("sweep", str(cfg), "--out", str(tmp_path / "o"), cwd=tmp_path)
    )
    assert "objective.key" in line and "sharpe" in line, line  # the key as written


def test_a_killed_sweep_of_data_sets_and_objectives_resumes_to_a_clean_run_s_result(
    tmp_path: Path,
) -> None:
    over = {
        "objective": None,
        "objectives": [
            {"function": "my_objectives:slow_sharpe", "name": "sharpe"},
            {"key": "max_drawdown_pct"},
        ],
        "space": {
            "data.source": ["sample:GOOG", "sample:BTCUSD"],
            "fast": [5, 8, 10, 12, 15, 20],
            "slow": [30, 40, 60],
        },
        "search": {"method": "grid", "max_tries": 24, "seed": 5},
        "executor": {"kind": "process", "workers": 2},
    }
    clean = run_sweep(_write(tmp_path, "clean", **over))
    store = tmp_path / "killed.sqlite"
    cfg = _write(tmp_path, "killed", **over, store=str(store))
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "isoloop.cli",
            "sweep",
            str(cfg),
            "--json",
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if store.exists():
                with SweepStore(store) as s:
                    if len(s) >= 6:
                        break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    with SweepStore(store) as s:
        stored = len(s)
    assert 6 <= stored < 24
    resumed = run_sweep(cfg)
    assert resumed.resumed == stored and resumed.executed == 24 - stored
    assert resumed.digest == clean.digest
    assert resumed.pareto_trials == clean.pareto_trials
