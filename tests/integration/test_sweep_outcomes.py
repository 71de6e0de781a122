"""Honest sweep outcomes: failures are summarized and fail the command when they are all
there is; failed trials can be retried; a sweep's outputs never overwrite another's."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from isoloop.errors import OutputConflict
from isoloop.sweep.runner import OptimizationExecutor, load_sweep, run_sweep, write_sweep_outputs
from support.cli_run import one_error_line, run_isoloop

BASE: dict[str, Any] = {
    "data": {"source": "sample:GOOG"},
    "venue": {"cash": 10_000, "commission": 0.002},
}


def all_failing(tmp_path: Path) -> Path:
    """Three trials, each raising in the strategy at its own bar."""
    cfg = tmp_path / "failing.yaml"
    sweep = {
        "kind": "sweep",
        "base": {
            **BASE,
            "name": "failing",
            "strategy": {"class": "support.isoloop_test_strategies:RaisesOnBar", "params": {}},
        },
        "space": {"bar": [5, 10, 15]},
        "objective": {"metric": "sqn", "direction": "maximize"},
        "search": {"method": "grid"},
        "executor": {"kind": "serial"},
    }
    cfg.write_text(json.dumps(sweep))
    return cfg


def marked(tmp_path: Path, marker: Path, kind: str = "serial") -> Path:
    """Six SmaCross trials; those with fast 10 or 20 fail while `marker` exists."""
    cfg = tmp_path / f"marked-{kind}.yaml"
    sweep = {
        "kind": "sweep",
        "base": {
            **BASE,
            "name": "marked",
            "strategy": {
                "class": "support.isoloop_test_strategies:FailsWhileMarked",
                "params": {"marker": str(marker), "fail_fast": [10, 20]},
            },
        },
        "space": {"fast": [5, 10, 20], "slow": [40, 60]},
        "objective": {"metric": "sqn", "direction": "maximize"},
        "search": {"method": "grid"},
        "executor": {"kind": kind, "workers": 2},
    }
    cfg.write_text(json.dumps(sweep))
    return cfg


def statuses(store: Path) -> dict[int, tuple[str, str | None]]:
    db = sqlite3.connect(store)
    try:
        rows = db.execute("SELECT trial_id, status, finished_at FROM trials").fetchall()
    finally:
        db.close()
    return {int(i): (s, f) for i, s, f in rows}


def test_a_sweep_whose_every_trial_failed_exits_1_with_the_failures_by_kind(
    tmp_path: Path,
) -> None:
    cfg = all_failing(tmp_path)
    done = run_isoloop("sweep", str(cfg), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr
    assert "3 trials, 3 done, 3 failed" in done.stdout
    assert "failed trials by kind (3 of 3):" in done.stdout
    line = next(x for x in done.stdout.splitlines() if x.strip().startswith("error"))
    assert line.split()[1] == "3"
    assert "first: trial 0: RuntimeError: strategy bug at bar 5" in line
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert "every one of its 3 trials failed (3 error)" in err[0]


def test_all_failed_with_json_prints_one_object_naming_the_failures(tmp_path: Path) -> None:
    cfg = all_failing(tmp_path)
    done = run_isoloop("sweep", str(cfg), "--json", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    payload = json.loads(done.stdout)  # exactly one object: a second would not parse
    assert payload["trials_failed"] == payload["trials_done"] == 3
    assert payload["best"] is None
    assert payload["failures"] == {
        "error": {
            "count": 3,
            "first": "RuntimeError: strategy bug at bar 5",
            "first_trial": 0,
        }
    }
    assert "Traceback" not in done.stderr


def test_the_python_api_returns_the_failures_and_does_not_raise(tmp_path: Path) -> None:
    result = run_sweep(all_failing(tmp_path))
    assert result.all_failed
    assert {k: (f.count, f.first_trial) for k, f in result.failures.items()} == {"error": (3, 0)}


def test_some_failed_trials_exit_0_with_the_summary_after_the_table(tmp_path: Path) -> None:
    marker = tmp_path / "fail.marker"
    marker.write_text("x")
    cfg = marked(tmp_path, marker)
    done = run_isoloop("sweep", str(cfg), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "6 trials, 6 done, 4 failed" in out
    assert out.index("best trials by sqn") < out.index("failed trials by kind (4 of 6):")
    assert "first: trial 2: RuntimeError: marked to fail: fast=10" in out
    assert done.stderr.strip() == ""


def test_retry_failed_reruns_only_the_failed_trials_and_matches_a_clean_run(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "fail.marker"
    marker.write_text("x")
    cfg = marked(tmp_path, marker)
    store = tmp_path / "s.sqlite"
    args = ("sweep", str(cfg), "--json", "--store", str(store), "--out", str(tmp_path / "out"))
    first = run_isoloop(*args, cwd=tmp_path)
    assert first.returncode == 0, (first.stdout, first.stderr)
    assert json.loads(first.stdout)["trials_failed"] == 4
    before = statuses(store)
    failed_ids = {i for i, (status, _) in before.items() if status != "ok"}
    assert failed_ids == {2, 3, 4, 5}

    marker.unlink()
    plain = run_isoloop(*args, cwd=tmp_path)  # a plain resume keeps failed rows as they are
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout)["trials_failed"] == 4
    assert statuses(store) == before

    retried = run_isoloop(*args, "--retry-failed", cwd=tmp_path)
    assert retried.returncode == 0, retried.stderr
    payload = json.loads(retried.stdout)
    assert payload["trials_failed"] == 0 and payload["failures"] == {}
    after = statuses(store)
    assert {i for i in after if after[i] != before[i]} == failed_ids  # only those reran
    assert all(status == "ok" for status, _ in after.values())

    clean = run_sweep(cfg, **{"executor.kind": "serial"})
    assert clean.failed == 0
    assert payload["digest"] == clean.digest


def test_retry_failed_in_python_on_a_process_pool(tmp_path: Path) -> None:
    marker = tmp_path / "fail.marker"
    marker.write_text("x")
    cfg = marked(tmp_path, marker, kind="process")
    store = str(tmp_path / "p.sqlite")
    with OptimizationExecutor("process", workers=2) as ex:
        first = ex.run(cfg, store=store)
        assert first.failed == 4
        marker.unlink()
        again = ex.run(cfg, store=store, retry_failed=True)
    assert (again.executed, again.resumed, again.failed) == (4, 2, 0)
    assert again.digest == run_sweep(cfg, **{"executor.kind": "serial"}).digest


def test_address_maps_to_the_executor_and_is_refused_for_local_kinds(tmp_path: Path) -> None:
    cfg = all_failing(tmp_path)
    for kind in ("serial", "thread", "process"):
        done = run_isoloop(
            "sweep", str(cfg), "--executor", kind, "--address", "tcp://127.0.0.1:1", cwd=tmp_path
        )
        line = one_error_line(done)
        assert "executor.address" in line and repr(kind) in line


def test_a_sweep_with_another_store_does_not_overwrite_the_outputs(tmp_path: Path) -> None:
    marker = tmp_path / "absent.marker"  # never created: every trial succeeds
    cfg = marked(tmp_path, marker)
    out = tmp_path / "out"
    good = run_isoloop(
        "sweep",
        str(cfg),
        "--json",
        "--store",
        str(tmp_path / "a.sqlite"),
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert good.returncode == 0, good.stderr
    folder = out / json.loads(good.stdout)["sweep_id"]
    files = {name: (folder / name).read_bytes() for name in ("summary.json", "report.html")}
    assert json.loads(files["summary.json"])["store"] == str(tmp_path / "a.sqlite")

    other = run_isoloop(
        "sweep", str(cfg), "--store", str(tmp_path / "b.sqlite"), "--out", str(out), cwd=tmp_path
    )
    line = one_error_line(other)
    assert str(tmp_path / "a.sqlite") in line and str(tmp_path / "b.sqlite") in line
    assert "--out" in line
    assert {name: (folder / name).read_bytes() for name in files} == files
    assert not (tmp_path / "b.sqlite").exists()  # refused before any trial ran

    # The same store again resumes and rewrites its own outputs.
    same = run_isoloop(
        "sweep",
        str(cfg),
        "--json",
        "--store",
        str(tmp_path / "a.sqlite"),
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["digest"] == json.loads(good.stdout)["digest"]


def denied_base() -> dict[str, Any]:
    """SmaCross buying with all equity while risk caps an order at 1 unit: all denied."""
    return {
        **BASE,
        "name": "denied",
        "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {}},
        "risk": {"max_order_size": 1},
    }


def test_a_backtest_whose_orders_risk_denied_warns_and_records_it(tmp_path: Path) -> None:
    cfg = tmp_path / "denied.yaml"
    cfg.write_text(json.dumps(denied_base()))
    done = run_isoloop("backtest", str(cfg), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    warnings = [x for x in out.splitlines() if x.startswith("warning: ")]
    assert len(warnings) == 2, out
    assert "orders were denied by risk" in warnings[0]
    assert warnings[1] == "warning: the run made no trades (every order was denied)"
    assert out.index("backtest summary") < out.index("warning: ")
    (manifest,) = (tmp_path / "out").glob("*/manifest.json")
    recorded = json.loads(manifest.read_text())["warnings"]
    assert recorded == [w.removeprefix("warning: ") for w in warnings]


def test_a_sweep_whose_trials_all_score_the_same_warns(tmp_path: Path) -> None:
    cfg = tmp_path / "flat.yaml"
    sweep = {
        "kind": "sweep",
        "base": denied_base(),
        "space": {"fast": [5, 10], "slow": [40, 60]},
        "objective": {"metric": "return_pct", "direction": "maximize"},
        "search": {"method": "grid"},
        "executor": {"kind": "serial"},
    }
    cfg.write_text(json.dumps(sweep))
    done = run_isoloop("sweep", str(cfg), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("warning: ")]
    assert "all 4 ok trials have an equal objective (return_pct = 0)" in line
    (summary,) = (tmp_path / "out").glob("*/summary.json")
    assert json.loads(summary.read_text())["warnings"] == [line.removeprefix("warning: ")]


def test_write_sweep_outputs_refuses_a_folder_another_store_wrote(tmp_path: Path) -> None:
    cfg = marked(tmp_path, tmp_path / "absent.marker")
    out = tmp_path / "out"
    in_memory = run_sweep(cfg)
    report = write_sweep_outputs(in_memory, load_sweep(cfg), out)
    before = report.read_bytes()
    stored = run_sweep(cfg, store=str(tmp_path / "c.sqlite"))
    assert stored.sweep_id == in_memory.sweep_id and stored.digest == in_memory.digest
    with pytest.raises(OutputConflict, match="no store \\(in memory\\)"):
        write_sweep_outputs(stored, load_sweep(cfg), out)
    assert report.read_bytes() == before
