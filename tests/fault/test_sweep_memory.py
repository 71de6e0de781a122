"""`trial_memory_mb`: a trial allocating without bound is stopped near its limit, while it
runs, and recorded "memory"; the rest of the sweep is unaffected (process, dask, ray)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import support.sweep_trials as st
from isoloop.errors import ConfigError
from isoloop.sweep import ProcessExecutor, SerialExecutor, make_executor

pytestmark = pytest.mark.timeout(300)

LIMIT_MB = 400
GREEDY_ID = 5


@pytest.fixture(scope="module")
def serial_outcome():
    with SerialExecutor() as executor:
        return st.run_grid30(executor)


@contextmanager
def _rss_watch(marker_dir: Path) -> Iterator[list[float]]:
    """The greedy trial's worker RSS peak, sampled from the moment the trial announces it."""
    peaks: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            markers = list(marker_dir.glob(f"greedy-{GREEDY_ID}-*"))
            if markers:
                st.sampled_peak_rss_mb(int(markers[0].read_text()), stop, peaks)
                return
            time.sleep(0.005)

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


def _run_greedy(executor: Any, tmp_path: Path, serial_outcome: Any) -> Any:
    ctx = {**st.CONTEXT, "marker_dir": str(tmp_path), "greedy_id": GREEDY_ID}
    with _rss_watch(tmp_path) as peaks:
        out = st.run_grid30(executor, fn=st.greedy, context=ctx, timeout_s=120.0)
    table = out.trials.set_index("trial_id")
    row = table.loc[GREEDY_ID]
    assert row["status"] == "memory"
    assert row["error"].startswith(f"trial exceeded trial_memory_mb={LIMIT_MB}; MemoryError: ")
    assert row["attempts"] == 1  # stopped in its worker, not killed and retried
    # stopped near its limit: it got most of its budget and never more
    held_mb = int((tmp_path / f"greedy-{GREEDY_ID}.mb").read_text())
    assert LIMIT_MB - 100 <= held_mb <= LIMIT_MB
    # the worker itself never grew far beyond it
    assert peaks and 0 < peaks[0] < 2 * LIMIT_MB, peaks
    # Bounded: status `memory` on the first attempt means the allocation itself failed,
    # not the 120 s trial timeout (that would read `timeout`); a hang is pytest-timeout's.
    # No wall-clock bound here: a loaded machine stretches the sweep, not the outcome.
    assert row["finished_at"] is not None
    # the sweep completed: every other trial ok, exactly as a serial run has it
    assert out.done == 30 and out.failed == 1
    assert (table.drop(index=GREEDY_ID)["status"] == "ok").all()
    expected = {k: v for k, v in st.per_trial(serial_outcome).items() if k != GREEDY_ID}
    assert {k: v for k, v in st.per_trial(out).items() if k != GREEDY_ID} == expected
    return out


def test_process_trial_over_its_memory_limit_is_stopped_and_recorded(tmp_path, serial_outcome):
    with ProcessExecutor(2, trial_memory_mb=LIMIT_MB) as executor:
        out = _run_greedy(executor, tmp_path, serial_outcome)
        alive = executor.worker_pids()
    row = out.trials.set_index("trial_id").loc[GREEDY_ID]
    # the worker that ran out of memory was replaced
    assert row["recycled"] and row["recycle_reason"] == "memory: the trial ran out of memory"
    assert int(row["worker"].rsplit(":", 1)[1]) not in alive


def _free_heap_in_driver(mb: int) -> bytearray:
    """Leave `mb` MB free inside this process's heap: many small blocks (malloc'd from
    the heap, not mapped apart) freed below one that stays, so the heap cannot shrink.
    Returns the one that stays; keep it alive."""
    blocks = [bytearray(64 * 1024) for _ in range(mb * 16)]
    keep = bytearray(64 * 1024)
    del blocks
    return keep


@pytest.mark.parametrize("start_method", [None, "fork"])
def test_a_budget_holds_however_much_the_driver_has_freed(tmp_path, serial_outcome, start_method):
    # A driver that allocated and freed a lot (a notebook, a long session): its free
    # heap must not become the trial's. Workers are spawned by default with a budget;
    # forked explicitly, the trial may take the driver's free heap on top (documented).
    keep = _free_heap_in_driver(300)
    with ProcessExecutor(2, trial_memory_mb=LIMIT_MB, start_method=start_method) as executor:
        if start_method is None:
            _run_greedy(executor, tmp_path, serial_outcome)
        else:
            ctx = {**st.CONTEXT, "marker_dir": str(tmp_path), "greedy_id": GREEDY_ID}
            out = st.run_grid30(executor, fn=st.greedy, context=ctx, timeout_s=120.0)
            assert out.trials.set_index("trial_id").loc[GREEDY_ID]["status"] == "memory"
    assert len(keep) == 64 * 1024


def test_a_trial_within_its_limit_is_untouched(serial_outcome):
    with ProcessExecutor(2, trial_memory_mb=LIMIT_MB) as executor:
        out = st.run_grid30(executor)
    assert st.per_trial(out) == st.per_trial(serial_outcome)
    assert out.sweep_digest == serial_outcome.sweep_digest


@pytest.mark.parametrize("kind", ["serial", "thread"])
def test_in_driver_executors_refuse_a_trial_memory_limit(kind):
    with pytest.raises(ConfigError, match="trial_memory_mb needs trials in their own processes"):
        make_executor(kind, trial_memory_mb=LIMIT_MB)


@pytest.mark.distributed
def test_dask_trial_over_its_memory_limit_is_stopped_and_recorded(tmp_path, serial_outcome):
    pytest.importorskip("distributed")
    from isoloop.sweep.executors.dask import DaskExecutor

    with DaskExecutor(2, trial_memory_mb=LIMIT_MB) as executor:
        before = executor.worker_pids()
        _run_greedy(executor, tmp_path, serial_outcome)
        assert executor.worker_pids() == before  # the worker survived its trial


@pytest.mark.distributed
@pytest.mark.timeout(900)  # a hang guard (Ray start-up and 30 trials on a loaded box)
def test_ray_trial_over_its_memory_limit_is_stopped_and_recorded(tmp_path, serial_outcome):
    pytest.importorskip("ray")
    with st.ray_executor(2, trial_memory_mb=LIMIT_MB) as executor:
        _run_greedy(executor, tmp_path, serial_outcome)


@pytest.mark.distributed
def test_dask_workers_running_several_threads_refuse_a_trial_memory_limit():
    distributed = pytest.importorskip("distributed")
    from isoloop.sweep import ExecutorError
    from isoloop.sweep.executors.dask import DaskExecutor

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        executor = DaskExecutor(address=cluster.scheduler_address, trial_memory_mb=LIMIT_MB)
        with executor, pytest.raises(ExecutorError, match="runs 2 threads; start the workers"):
            st.run_grid30(executor)
