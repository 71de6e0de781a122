"""Faults in a `process` sweep: raising, hanging and killed trials, a killed driver, memory."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

import support.sweep_trials as st
from isoloop.errors import ConfigError
from isoloop.sweep import (
    ProcessExecutor,
    SerialExecutor,
    SweepStore,
    run_generic_sweep,
)

pytestmark = pytest.mark.timeout(120)

CONTEXT = st.CONTEXT


_run = st.run_grid30


@pytest.fixture(scope="module")
def serial_outcome():
    with SerialExecutor() as executor:
        return _run(executor)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_raising_trial_is_recorded_as_error_and_the_sweep_finishes(serial_outcome):
    ctx = {**CONTEXT, "bad_fast": 8}
    with ProcessExecutor(2) as executor:
        out = _run(executor, fn=st.raising, context=ctx)
    bad = out.trials[out.trials["param.fast"] == 8]
    assert len(bad) == 6 and set(bad["status"]) == {"error"}
    assert set(bad["error"]) == {"ValueError: fast=8 is cursed"}
    assert out.failed == 6 and out.done == 30
    good = {k: v for k, v in st.per_trial(serial_outcome).items() if k not in set(bad["trial_id"])}
    assert {k: v for k, v in st.per_trial(out).items() if k in good} == good


def test_hung_trial_times_out_and_its_worker_is_killed(tmp_path, serial_outcome):
    ctx = {**CONTEXT, "marker_dir": str(tmp_path), "hang_id": 3}
    with ProcessExecutor(2) as executor:
        out = _run(executor, fn=st.hanging, context=ctx, timeout_s=2.0)
        hung_pid = int(next(tmp_path.glob("hang-3-*")).read_text())
        assert not _alive(hung_pid)  # killed while the pool is still up, not at close
        assert hung_pid not in executor.worker_pids()
    row = out.trials.set_index("trial_id").loc[3]
    assert row["status"] == "timeout"
    assert row["error"] == f"trial exceeded trial_timeout=2s; worker {hung_pid} killed and replaced"
    others = {k: v for k, v in st.per_trial(serial_outcome).items() if k != 3}
    assert {k: v for k, v in st.per_trial(out).items() if k != 3} == others


def _kill_victim(marker_dir: Path, stop: threading.Event, killed: list[int]) -> None:
    while not stop.is_set():
        markers = sorted(marker_dir.glob("victim-*"))
        if markers:
            pid = int(markers[0].read_text())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.01)


@pytest.mark.parametrize("retries", [2, 0])
def test_sigkilled_worker_is_resubmitted_or_recorded_crashed(tmp_path, retries, serial_outcome):
    ctx = {**CONTEXT, "marker_dir": str(tmp_path), "victim_id": 7, "victim_sleep_s": 2.0}
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_victim, args=(tmp_path, stop, killed))
    killer.start()
    store = tmp_path / "s.sqlite"
    try:
        with ProcessExecutor(2) as executor:
            out = _run(executor, fn=st.killable, context=ctx, store=store, retries=retries)
    finally:
        stop.set()
        killer.join()
    with SweepStore(store) as s:
        assert [r["trial_id"] for r in s.rows()] == list(range(30))  # each id exactly once
    row = out.trials.set_index("trial_id").loc[7]
    expected = st.per_trial(serial_outcome)
    if retries:
        assert len(list(tmp_path.glob("victim-7-0-*"))) == 1
        assert len(list(tmp_path.glob("victim-7-1-*"))) == 1  # attempted again
        assert row["status"] == "ok" and row["attempts"] == 2
        assert st.per_trial(out) == expected
        assert out.sweep_digest == serial_outcome.sweep_digest
    else:
        assert row["status"] == "crashed" and row["attempts"] == 1
        assert f"worker {killed[0]} died (exit code -9)" in row["error"]
        assert {k: v for k, v in st.per_trial(out).items() if k != 7} == {
            k: v for k, v in expected.items() if k != 7
        }
    # no other trial ran twice
    assert not (out.trials.drop(index=out.trials.index[7])["attempts"] != 1).any()


DRIVER = textwrap.dedent(
    """
    import sys
    import support.sweep_trials as st
    from isoloop.sweep import ProcessExecutor, run_generic_sweep

    if __name__ == "__main__":
        store, marker_dir = sys.argv[1], sys.argv[2]
        ctx = {"noise": 0.25, "sleep_s": 0.25, "marker_dir": marker_dir}
        with ProcessExecutor(2) as executor:
            run_generic_sweep(
                st.counted, st.goog(), search=st.grid30(), executor=executor,
                definition=st.definition(), base_seed=42, metric="sharpe_ratio",
                store=store, context=ctx,
            )
    """
)


def test_sigkilled_driver_resumes_only_missing_trials(tmp_path, serial_outcome):
    store = tmp_path / "sweep.sqlite"
    first, second = tmp_path / "run1", tmp_path / "run2"
    first.mkdir()
    second.mkdir()
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    env = {**os.environ, "PYTHONPATH": str(Path(st.__file__).parents[1])}
    proc = subprocess.Popen([sys.executable, str(script), str(store), str(first)], env=env)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if store.exists():
                with SweepStore(store) as s:
                    if len(s) >= 10:
                        break
            time.sleep(0.05)
        workers = [c.pid for c in psutil.Process(proc.pid).children()]
        # the bars the killed driver memory-mapped (it cannot remove them itself)
        leaked = {
            Path(m.path).parent
            for pid in workers
            for m in psutil.Process(pid).memory_maps()
            if "isoloop-sweep-" in m.path
        }
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    # orphaned workers notice their driver is gone and exit
    _, alive = psutil.wait_procs([psutil.Process(p) for p in workers if _alive(p)], timeout=10)
    assert not alive
    assert leaked
    for directory in leaked:
        shutil.rmtree(directory, ignore_errors=True)
    with SweepStore(store) as s:
        stored = {r["trial_id"] for r in s.rows()}
    assert 10 <= len(stored) < 30

    ctx = {"noise": 0.25, "sleep_s": 0.0, "marker_dir": str(second)}
    with ProcessExecutor(2) as executor:
        out = _run(executor, fn=st.counted, context=ctx, store=store)
    rerun_ids = sorted(int(p.name.split("-")[1]) for p in second.glob("ran-*"))
    assert rerun_ids == sorted(set(range(30)) - stored)  # only the missing ones, once each
    assert out.resumed == len(stored) and out.executed == 30 - len(stored)
    assert st.per_trial(out) == st.per_trial(serial_outcome)
    assert out.sweep_digest == serial_outcome.sweep_digest


def test_a_different_sweep_in_the_same_store_is_refused(tmp_path):
    store = tmp_path / "s.sqlite"
    with SerialExecutor() as executor:
        _run(executor, store=store)
        with pytest.raises(ConfigError, match="holds a different sweep"):
            run_generic_sweep(
                st.toy,
                st.goog(),
                search=st.grid30(),
                executor=executor,
                definition=st.definition(constraint="fast <= slow"),
                base_seed=42,
                metric="sharpe_ratio",
                store=store,
                context=CONTEXT,
            )


def test_memory_ceiling_recycles_the_worker_after_the_trial():
    ctx = {**CONTEXT, "hog_id": 5, "hog_mb": 600}
    with ProcessExecutor(1, memory_limit_mb=450) as executor:
        out = _run(executor, fn=st.hog, context=ctx)
        alive_pids = executor.worker_pids()
    assert (out.trials["status"] == "ok").all()
    table = out.trials.set_index("trial_id")
    assert table.loc[5, "recycled"]
    assert table.loc[5, "recycle_reason"].startswith("memory: RSS ")
    assert table.loc[5, "memory_rss_mb"] > 450
    assert not table.drop(index=5)["recycled"].any()
    before = set(table.loc[:5, "worker"])
    after = set(table.loc[6:, "worker"])
    assert len(before) == 1 and len(after) == 1 and before != after  # a new process
    assert int(next(iter(before)).rsplit(":", 1)[1]) not in alive_pids


def test_recycle_after_n_trials():
    with ProcessExecutor(1, recycle_after=10) as executor:
        out = _run(executor)
    table = out.trials.set_index("trial_id")
    assert list(table.index[table["recycled"]]) == [9, 19, 29]
    assert table["worker"].nunique() == 3
    assert set(table.loc[table["recycled"], "recycle_reason"]) == {"recycle_after: 10 trials"}
