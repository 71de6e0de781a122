"""`dask`: trials as tasks on a distributed cluster (local or at `address`).

Data is loaded by a task (`client.submit(load, handle)`), never scattered:
task-produced data is part of the graph's lineage, so when the worker holding
it dies the scheduler recomputes it, whereas scattered data is lost for good
(research/distributed-anchors.md §1). Each worker process keeps one copy.

Faults: a worker killed under a trial is handled by Dask itself (the nanny
restarts the worker and the scheduler reschedules the task, up to
`distributed.scheduler.allowed-failures` times); those reschedules are not
visible to us, so `attempts` counts only our own resubmissions, made when Dask
gives up with `KilledWorker`. A hung trial cannot be cancelled inside a Dask
worker thread, so on timeout the future is cancelled and that worker is
restarted. The timeout clock starts at submission; with a timeout set, at most
`workers` trials are in flight so a submitted trial starts right away.
The context travels with each task (it is small); the bars never do.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Sequence
from typing import Any

import distributed
from isoloop.data.bars import MarketData
from isoloop.sweep.executors.base import (
    BarsTupleHandle,
    DataHandle,
    ExecutorError,
    MemmapHandle,
    TrialContext,
    TrialFn,
    execute_trial,
)
from isoloop.sweep.executors.loop import Event, Finished, LoopExecutor, TaskFailed, WorkerDied
from isoloop.sweep.spec import TrialResult, TrialSpec

__all__ = ["DaskExecutor"]

# distributed's annotations are partial (untyped Client/LocalCluster/wait): use it as
# a dynamic API here rather than sprinkling ignores.
dd: Any = distributed
Future = Any


def _load(handle: DataHandle) -> BarsTupleHandle:
    """Runs on a worker: open the source once; dependents receive the loaded bars."""
    return BarsTupleHandle.of(handle.open())


def _trial(
    fn: TrialFn, spec: TrialSpec, loaded: BarsTupleHandle, context: TrialContext
) -> TrialResult:
    return execute_trial(fn, spec, loaded.open(), context)


async def _hard_exit() -> None:
    # run on the worker's event loop (free even while its only thread is stuck)
    os._exit(1)


class DaskExecutor(LoopExecutor[Future]):
    """Runs trials on a Dask cluster; starts a local one when no address is given."""

    name = "dask"

    def __init__(self, workers: int = 2, *, address: str | None = None) -> None:
        self.workers = workers
        self.address = address
        self._cluster: Any = None
        self._client: Any = None
        self._handles: list[MemmapHandle] = []
        self._job: tuple[TrialFn, Future, TrialContext] | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                if self.address is None:
                    self._cluster = dd.LocalCluster(
                        n_workers=self.workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        host="127.0.0.1",
                        silence_logs=logging.ERROR,
                    )
                    self._client = dd.Client(self._cluster)
                else:
                    self._client = dd.Client(self.address, timeout=30)
                    self.workers = max(1, len(self._client.scheduler_info()["workers"]))
            except OSError as exc:
                raise ExecutorError(
                    f"dask executor: cannot reach a scheduler at {self.address!r} ({exc}); "
                    "check executor.address or omit it to start a local cluster"
                ) from None
        return self._client

    def share(self, data: MarketData) -> Future:
        source: DataHandle
        if self.address is None:
            # Same host: the loading task reads the bars from /dev/shm (a tiny graph).
            memmap = MemmapHandle.write(data)
            self._handles.append(memmap)
            source = memmap
        else:
            source = BarsTupleHandle.of(data)
        return self.client.submit(_load, source, key=f"isoloop-data-{uuid.uuid4().hex}")

    def worker_pids(self) -> dict[str, int]:
        return dict(self.client.run(lambda: __import__("os").getpid()))

    # -- the loop's operations ------------------------------------------------
    def start(self, fn: TrialFn, handle: Future, context: TrialContext) -> None:
        self._job = (fn, handle, context)
        _ = self.client  # connect first: with an address, `workers` is the cluster's

    def in_flight_cap(self, max_in_flight: int | None, timeout_s: float | None) -> int:
        cap = max(1, max_in_flight or 2 * self.workers)
        # The timeout clock starts at submission: only submit what starts right away.
        return cap if timeout_s is None else min(cap, self.workers)

    def submit(self, spec: TrialSpec) -> Future:
        assert self._job is not None
        fn, handle, context = self._job
        key = f"isoloop-trial-{spec.trial_id}-{spec.attempt}-{uuid.uuid4().hex[:8]}"
        return self.client.submit(_trial, fn, spec, handle, context, key=key, pure=False)

    def wait_any(self, tickets: Sequence[Future], timeout_s: float | None) -> list[Event[Future]]:
        try:
            waited = dd.wait(
                list(tickets),
                timeout=None if timeout_s is None else max(0.01, timeout_s),
                return_when="FIRST_COMPLETED",
            )
        except TimeoutError:
            return []
        return [self._event(future) for future in waited.done]

    def _event(self, future: Future) -> Event[Future]:
        try:
            return Finished(future, future.result())
        except dd.KilledWorker as exc:
            return WorkerDied(future, "dask", f"workers died under it ({exc})")
        except Exception as exc:  # the task itself could not run (e.g. unpicklable fn)
            return TaskFailed(future, "dask", exc)

    def worker_of(self, ticket: Future) -> str:
        return "dask"

    def kill(self, ticket: Future) -> str:
        processing: dict[str, list[Any]] = self.client.processing()
        workers = [addr for addr, keys in processing.items() if ticket.key in keys]
        ticket.cancel()
        if workers:
            # A graceful restart waits for the busy thread (measured: ~60 s); exiting the
            # worker process at once frees the core and its nanny starts a fresh one.
            with contextlib.suppress(Exception):
                self.client.run(_hard_exit, workers=workers, wait=False)
        return "future cancelled and its worker restarted"

    def cancel(self, ticket: Future) -> None:
        ticket.cancel()

    def finish(self) -> None:
        self._job = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        for memmap in self._handles:
            memmap.remove()
        self._handles = []
