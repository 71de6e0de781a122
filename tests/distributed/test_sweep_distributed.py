"""Dask and Ray executors: same results as serial, real worker processes, faults survived."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

import support.sweep_trials as st
from isoloop.sweep import SerialExecutor

# A hang guard, not a speed check: a loaded 2-core box starts Ray slowly.
pytestmark = [pytest.mark.distributed, pytest.mark.timeout(900)]

distributed = pytest.importorskip("distributed")
ray = pytest.importorskip("ray")

CONTEXT = st.CONTEXT


_run = st.run_grid30


@pytest.fixture(scope="module")
def serial_outcome():
    with SerialExecutor() as executor:
        return _run(executor)


@pytest.fixture(scope="module")
def dask_executor():
    from isoloop.sweep.executors.dask import DaskExecutor

    with DaskExecutor(2) as executor:
        yield executor


@pytest.fixture(scope="module")
def ray_executor():
    with st.ray_executor(2) as executor:  # starts Ray once for the module
        yield executor


def _pids(outcome):
    return {int(w.rsplit(":", 1)[1]) for w in outcome.trials["worker"]}


def _kill_first_victim(marker_dir: Path, pids_to_kill, stop: threading.Event) -> None:
    """Wait for the victim trial to announce its pid, then SIGKILL it (and `pids_to_kill`)."""
    # Asked before anything dies: a cluster cannot list its workers while one is dying.
    others = set(pids_to_kill())
    while not stop.is_set():
        markers = sorted(marker_dir.glob("victim-*"))
        if markers:
            victim = int(markers[0].read_text())
            # The victim first, at once: asking a cluster for its worker pids can take
            # longer than the victim's sleep on a loaded machine.
            os.kill(victim, signal.SIGKILL)
            for pid in others - {victim}:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.02)


@pytest.mark.parametrize("name", ["dask", "ray"])
def test_cluster_matches_serial_on_real_workers(name, request, serial_outcome):
    executor = request.getfixturevalue(f"{name}_executor")
    out = _run(executor)
    assert st.per_trial(out) == st.per_trial(serial_outcome)
    assert out.sweep_digest == serial_outcome.sweep_digest
    pids = _pids(out)
    assert len(pids) >= 2
    assert os.getpid() not in pids


def test_dask_worker_kill_loses_nothing_and_data_survives(dask_executor, tmp_path, serial_outcome):
    # Kill every worker while the victim runs: all copies of the loaded bars are gone,
    # so the sweep can only finish if the data is recomputed from its loading task.
    ctx = {**CONTEXT, "marker_dir": str(tmp_path), "victim_id": 7, "victim_sleep_s": 2.0}
    stop = threading.Event()
    pids = list(dask_executor.worker_pids().values())
    killer = threading.Thread(target=_kill_first_victim, args=(tmp_path, lambda: pids, stop))
    killer.start()
    try:
        out = _run(dask_executor, fn=st.killable, context=ctx, store=tmp_path / "d.sqlite")
    finally:
        stop.set()
        killer.join()
    assert list(out.trials["trial_id"]) == list(range(30))  # each id exactly once
    assert len(list(tmp_path.glob("victim-7-*"))) >= 2  # the killed trial ran again
    expected = st.per_trial(serial_outcome)
    assert st.per_trial(out) == expected
    assert out.sweep_digest == serial_outcome.sweep_digest


def test_ray_worker_kill_is_retried_once(ray_executor, tmp_path, serial_outcome):
    ctx = {**CONTEXT, "marker_dir": str(tmp_path), "victim_id": 7, "victim_sleep_s": 2.0}
    stop = threading.Event()
    killer = threading.Thread(target=_kill_first_victim, args=(tmp_path, list, stop))
    killer.start()
    try:
        out = _run(ray_executor, fn=st.killable, context=ctx, retries=2)
    finally:
        stop.set()
        killer.join()
    assert list(out.trials["trial_id"]) == list(range(30))
    assert len(list(tmp_path.glob("victim-7-0-*"))) == 1
    assert len(list(tmp_path.glob("victim-7-1-*"))) == 1
    row = out.trials.set_index("trial_id").loc[7]
    assert row["status"] == "ok" and row["attempts"] == 2
    assert st.per_trial(out) == st.per_trial(serial_outcome)


@pytest.mark.parametrize("name", ["dask", "ray"])
def test_cluster_hung_trial_times_out_and_its_process_is_killed(name, request, tmp_path):
    executor = request.getfixturevalue(f"{name}_executor")
    # Warm the workers first, and leave room for a replacement worker to start under
    # load: the timeout counts from submission, so a cold or busy cluster must not turn
    # ordinary trials into timeouts.
    _run(executor)
    ctx = {**CONTEXT, "marker_dir": str(tmp_path), "hang_id": 3}
    out = _run(executor, fn=st.hanging, context=ctx, timeout_s=15.0)
    by_id = out.trials.set_index("trial_id")
    assert by_id.loc[3, "status"] == "timeout"
    assert "trial_timeout=15" in by_id.loc[3, "error"]
    assert (by_id.drop(index=3)["status"] == "ok").all()
    assert out.done == 30 and out.failed == 1
    hung_pid = int(next(tmp_path.glob("hang-3-*")).read_text())
    _, alive = psutil.wait_procs([p for p in [_proc(hung_pid)] if p is not None], timeout=30)
    assert not alive, f"hung worker {hung_pid} still running"


def _proc(pid):
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


@pytest.mark.parametrize("name", ["dask", "ray"])
def test_cluster_bars_are_read_only(name, request):
    executor = request.getfixturevalue(f"{name}_executor")
    if name == "dask":
        # A worker killed by an earlier test may still be restarting: this test needs both.
        executor.client.wait_for_workers(2, timeout=120)
    out = _run(executor, fn=st.mutating, context={**CONTEXT, "mutate_delay_s": 0.2})
    assert set(out.trials["error"]) == {"ValueError: assignment destination is read-only"}
    assert len(_pids(out)) >= 2  # checked on both workers, incl. one that received a copy
