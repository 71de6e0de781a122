"""One sweep, every local executor: identical per-trial results and sweep digest."""

from __future__ import annotations

import os

import psutil
import pytest

import support.sweep_trials as st
from isoloop.sweep import (
    ProcessExecutor,
    SerialExecutor,
    SweepStore,
    ThreadExecutor,
)

pytestmark = pytest.mark.timeout(120)

CONTEXT = st.CONTEXT


def _run(executor, store=None, fn=st.toy, context=st.CONTEXT, **kw):
    with executor:
        return st.run_grid30(executor, fn, context, store, **kw)


@pytest.fixture(scope="module")
def serial_outcome():
    return _run(SerialExecutor())


def test_serial_reference_runs_every_trial(serial_outcome, tmp_path):
    out = serial_outcome
    assert out.total == out.done == 30 and out.failed == 0
    assert list(out.trials["trial_id"]) == list(range(30))
    assert all(out.trials["param.fast"] < out.trials["param.slow"])
    # the best trial really is the max of the objective column
    best_row = out.trials.loc[out.trials["sharpe_ratio"].idxmax()]
    assert out.best is not None and out.best.trial_id == int(best_row["trial_id"])
    # a stats key outside the design's list is kept, in the JSON column
    assert out.trials["stats_extra"][0] == {"my_extra_metric": 4.0 * 10.0}
    # different seeds per trial: noise differs even for equal crossings
    assert out.trials["sharpe_ratio"].nunique() == 30


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: ThreadExecutor(4), id="thread4"),
        pytest.param(lambda: ProcessExecutor(1), id="process1"),
        pytest.param(lambda: ProcessExecutor(2), id="process2"),
    ],
)
def test_executor_matches_serial(make, serial_outcome):
    out = _run(make())
    assert st.per_trial(out) == st.per_trial(serial_outcome)
    assert out.sweep_digest == serial_outcome.sweep_digest


def test_process_workers_are_real_processes(serial_outcome):
    executor = ProcessExecutor(2)
    out = _run(executor)
    assert st.per_trial(out) == st.per_trial(serial_outcome)
    pids = {int(w.rsplit(":", 1)[1]) for w in out.trials["worker"]}
    assert len(pids) >= 2
    assert os.getpid() not in pids
    assert all(e["pid"] in pids for e in out.trials["extra"])
    # closing the executor ends its workers
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie" for p in pids)


def test_shared_bars_are_read_only_in_every_executor():
    for executor in (SerialExecutor(), ThreadExecutor(2), ProcessExecutor(2)):
        out = _run(executor, fn=st.mutating)
        assert set(out.trials["status"]) == {"error"}, executor.name
        assert out.trials["error"][0] == "ValueError: assignment destination is read-only"


def test_process_workers_open_data_once_and_reuse_it(tmp_path):
    # The same pool serves two sweeps with the same fn/data: no new worker pids.
    data = st.goog()
    with ProcessExecutor(2) as executor:
        handle = executor.share(data)
        results_a = list(executor.map(st.toy, iter(_specs(0, 6)), handle, context=CONTEXT))
        pids_a = set(executor.worker_pids())
        results_b = list(executor.map(st.toy, iter(_specs(6, 12)), handle, context=CONTEXT))
        assert set(executor.worker_pids()) == pids_a
    workers = {r.worker for r in results_a + results_b}
    assert {int(w.rsplit(":", 1)[1]) for w in workers} <= pids_a
    assert sorted(r.trial_id for r in results_a + results_b) == list(range(12))


def _specs(lo, hi):
    from isoloop.sweep import TrialSpec, trial_seed

    grid = dict(st.grid30().trials())
    return [TrialSpec(i, grid[i], trial_seed(42, i)) for i in range(lo, hi)]


def test_store_is_sqlite_wal_and_rows_come_back_sorted(tmp_path, serial_outcome):
    path = tmp_path / "s.sqlite"
    out = _run(ThreadExecutor(4), store=path)
    import sqlite3

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    ids = [r[0] for r in db.execute("SELECT trial_id FROM trials")]
    assert sorted(ids) == list(range(30))
    cols = [r[1] for r in db.execute("PRAGMA table_info(trials)")]
    assert {"sharpe_ratio", "equity_final", "commissions", "stats_extra"} <= set(cols)
    db.close()
    with SweepStore(path) as store:
        assert [r["trial_id"] for r in store.rows()] == list(range(30))
    assert out.sweep_digest == serial_outcome.sweep_digest


def test_progress_reports_done_failed_running_and_best():
    calls = []
    ctx = {**CONTEXT, "bad_fast": 8}
    with ThreadExecutor(2) as executor:
        out = _run(
            executor,
            fn=st.raising,
            context=ctx,
            max_in_flight=3,
            on_progress=lambda *args: calls.append(args),
        )
    dones = [c[0] for c in calls]
    assert dones == list(range(31))  # once before the first trial, then once per result
    assert all(c[3] == 30 for c in calls)
    assert all(0 <= c[2] <= 3 for c in calls)
    assert calls[-1][1] == out.failed == 6
    assert calls[-1][4] == out.best


def test_thread_timeout_is_recorded_while_the_thread_runs_on(tmp_path):
    # Threads cannot be killed: the overrunning trial is recorded, the sweep goes on.
    ctx = {**CONTEXT, "marker_dir": str(tmp_path), "hang_id": 4, "hang_s": 3.0}
    with ThreadExecutor(2) as executor:
        out = _run(executor, fn=st.hanging, context=ctx, timeout_s=1.0)
    table = out.trials.set_index("trial_id")
    assert table.loc[4, "status"] == "timeout"
    assert "thread cannot be stopped" in table.loc[4, "error"]
    assert (table.drop(index=4)["status"] == "ok").all()


def test_unpicklable_trial_function_is_a_clear_error():
    # Under fork (the default on Linux) a worker inherits the function; spawn — the
    # only method on macOS/Windows, and what dask/ray need too — must pickle it.
    from isoloop.sweep import ExecutorError

    with (
        ProcessExecutor(1, start_method="spawn") as executor,
        pytest.raises(ExecutorError, match="module-level"),
    ):
        _run(executor, fn=lambda spec, data, context: {"stats": {}})


def test_retry_failed_reruns_only_failed_rows(tmp_path, serial_outcome):
    store = tmp_path / "r.sqlite"
    with SerialExecutor() as executor:
        first = _run(executor, fn=st.raising, context={**CONTEXT, "bad_fast": 8}, store=store)
        assert first.failed == 6
        again = _run(executor, fn=st.raising, context={**CONTEXT, "bad_fast": 8}, store=store)
        assert again.executed == 0 and again.failed == 6  # failures are final by default
        fixed = _run(
            executor,
            fn=st.raising,
            context={**CONTEXT, "bad_fast": -1},
            store=store,
            retry_failed=True,
        )
    assert fixed.executed == 6 and fixed.failed == 0
    assert st.per_trial(fixed) == st.per_trial(serial_outcome)


def test_worker_that_cannot_open_the_data_stops_the_sweep_with_a_clear_error():
    from isoloop.sweep import ExecutorError, MemmapHandle

    missing = MemmapHandle("/nonexistent/isoloop-sweep", ("GOOG",))
    with (
        ProcessExecutor(1) as executor,
        pytest.raises(ExecutorError, match="could not start: FileNotFoundError"),
    ):
        list(executor.map(st.toy, iter(_specs(0, 2)), missing, context=CONTEXT))


def test_memmaps_left_by_a_killed_driver_are_removed_by_the_next_one(tmp_path):
    import subprocess
    import sys

    from isoloop.sweep.executors.base import remove_stale_memmaps

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = tmp_path / f"isoloop-sweep-{int(dead.stdout)}-abc123"
    live = tmp_path / f"isoloop-sweep-{os.getpid()}-def456"
    other = tmp_path / "isoloop-sweep-notapid"
    for folder in (stale, live, other):
        folder.mkdir()
        (folder / "0_close.npy").write_bytes(b"x")
    assert remove_stale_memmaps(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and other.exists()


def test_a_store_written_before_the_memory_status_takes_memory_rows(tmp_path, serial_outcome):
    import sqlite3

    from isoloop.sweep import TrialResult, TrialSpec

    path = tmp_path / "old.sqlite"
    _run(SerialExecutor(), store=path)
    # the schema earlier versions wrote: no "memory" in the status CHECK
    db = sqlite3.connect(path)
    (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'trials'").fetchone()
    old_sql = sql.replace(", 'memory'", "")
    assert old_sql != sql
    db.executescript(
        f"ALTER TABLE trials RENAME TO t0; {old_sql}; INSERT INTO trials SELECT * FROM t0; "
        "DROP TABLE t0;"
    )
    db.close()
    with SweepStore(path) as store:
        spec = TrialSpec(30, {"fast": 1, "slow": 2}, 0)
        store.record(spec, TrialResult(30, "memory", {}, None, 1, "w", error="MemoryError"))
        rows = list(store.rows())
    assert [r["status"] for r in rows] == ["ok"] * 30 + ["memory"]
    kept = [{k: r[k] for k in ("trial_id", "sharpe_ratio", "digest")} for r in rows[:30]]
    expected = serial_outcome.trials[["trial_id", "sharpe_ratio", "digest"]]
    assert kept == expected.to_dict("records")


def test_a_trial_out_of_memory_is_recorded_memory_not_error(serial_outcome):
    # No trial_memory_mb: the machine itself refused the allocation.
    out = _run(SerialExecutor(), fn=st.out_of_memory, context={**CONTEXT, "bad_fast": 8})
    bad = out.trials[out.trials["param.fast"] == 8]
    assert len(bad) == 6 and set(bad["status"]) == {"memory"}
    assert set(bad["error"]) == {"MemoryError: Unable to allocate 8.00 TiB for an array"}
    assert out.failed == 6
    good = out.trials[out.trials["param.fast"] != 8]
    assert (good["status"] == "ok").all()
