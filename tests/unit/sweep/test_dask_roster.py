"""The Dask executor's view of its workers: a process is not its address."""

from __future__ import annotations

import pytest

from isoloop.errors import ExecutorError
from isoloop.sweep.executors import dask_roster
from isoloop.sweep.executors.dask_roster import WorkerRoster

A, B = "tcp://127.0.0.1:9000", "tcp://127.0.0.1:9001"


def _info(**dirs: str) -> dict[str, dict[str, object]]:
    addrs = {"a": A, "b": B}
    return {addrs[k]: {"local_directory": d, "nthreads": 1} for k, d in dirs.items()}


def test_a_fresh_process_at_a_dead_workers_address_is_used_again() -> None:
    roster = WorkerRoster()
    roster.update(_info(a="/w/worker-1", b="/w/worker-2"))
    roster.forget(A, "/w/worker-1")
    assert set(roster.threads) == {B}
    roster.update(_info(a="/w/worker-1", b="/w/worker-2"))  # the scheduler not yet told
    assert set(roster.threads) == {B}
    roster.update(_info(a="/w/worker-3", b="/w/worker-2"))  # restarted at the same port
    assert set(roster.threads) == {A, B}
    assert not roster.is_current(A, "/w/worker-1")  # a task sent to the dead one
    assert roster.is_current(A, "/w/worker-3")
    assert roster.guard(A) == "/w/worker-3"


def test_forgetting_a_dead_process_spares_its_successor() -> None:
    roster = WorkerRoster()
    roster.update(_info(a="/w/worker-3"))
    roster.forget(A, "/w/worker-1")  # the death of the one before, seen late
    assert roster.threads == {A: 1}
    roster.forget(A)  # the one at A now
    assert roster.threads == {}


def test_a_scheduler_that_names_no_directory_falls_back_to_addresses() -> None:
    roster = WorkerRoster()
    roster.update({A: {"nthreads": 2}})
    assert roster.threads == {A: 2} and roster.guard(A) is None
    roster.forget(A)
    roster.update({A: {"nthreads": 2}})
    assert roster.threads == {}


def test_no_live_worker_stops_the_sweep_after_the_limit(monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(dask_roster.time, "monotonic", lambda: clock[0])
    roster = WorkerRoster()
    roster.check("tcp://sched:8786")  # starts counting
    clock[0] += dask_roster.NO_WORKER_S
    roster.check("tcp://sched:8786")  # not past the limit yet
    roster.update(_info(a="/w/worker-1"))
    clock[0] += dask_roster.NO_WORKER_S + 1
    roster.check("tcp://sched:8786")  # a worker came back: the count restarts
    roster.update({})
    roster.check("tcp://sched:8786")
    clock[0] += dask_roster.NO_WORKER_S + 1
    with pytest.raises(ExecutorError, match=r"no worker alive at tcp://sched:8786 for 300 s"):
        roster.check("tcp://sched:8786")
