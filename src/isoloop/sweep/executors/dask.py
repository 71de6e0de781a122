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
The context dict travels with each task (it is small); the bars never do.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import distributed
from isoloop.data.bars import MarketData
from isoloop.sweep.executors.base import (
    BarsTupleHandle,
    ClosingExecutor,
    DataHandle,
    ExecutorError,
    MemmapHandle,
    TrialFn,
    crashed_result,
    error_result,
    execute_trial,
    timeout_result,
)
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
    fn: TrialFn, spec: TrialSpec, loaded: BarsTupleHandle, context: Mapping[str, Any]
) -> TrialResult:
    return execute_trial(fn, spec, loaded.open(), context)


async def _hard_exit() -> None:
    # run on the worker's event loop (free even while its only thread is stuck)
    os._exit(1)


class DaskExecutor(ClosingExecutor):
    """Runs trials on a Dask cluster; starts a local one when no address is given."""

    name = "dask"

    def __init__(self, workers: int = 2, *, address: str | None = None) -> None:
        self.workers = workers
        self.address = address
        self._cluster: Any = None
        self._client: Any = None
        self._handles: list[MemmapHandle] = []

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

    def _restart_worker_of(self, future: Future) -> None:
        processing: dict[str, list[Any]] = self.client.processing()
        workers = [addr for addr, keys in processing.items() if future.key in keys]
        future.cancel()
        if workers:
            # A graceful restart waits for the busy thread (measured: ~60 s); exiting the
            # worker process at once frees the core and its nanny starts a fresh one.
            with contextlib.suppress(Exception):
                self.client.run(_hard_exit, workers=workers, wait=False)

    def map(
        self,
        fn: TrialFn,
        specs: Iterator[TrialSpec],
        handle: Future,
        *,
        context: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        retries: int = 2,
        max_in_flight: int | None = None,
    ) -> Iterator[TrialResult]:
        client = self.client
        ctx = dict(context or {})
        cap = max(1, max_in_flight or 2 * self.workers)
        if timeout_s is not None:
            cap = min(cap, self.workers)
        running: dict[Future, tuple[TrialSpec, float, float]] = {}
        retry: list[TrialSpec] = []
        spec_iter = iter(specs)
        exhausted = False

        def submit(spec: TrialSpec) -> None:
            key = f"isoloop-trial-{spec.trial_id}-{spec.attempt}-{uuid.uuid4().hex[:8]}"
            future = client.submit(_trial, fn, spec, handle, ctx, key=key, pure=False)
            running[future] = (spec, time.monotonic(), time.time())

        try:
            while True:
                while len(running) < cap and (retry or not exhausted):
                    if retry:
                        submit(retry.pop(0))
                        continue
                    spec = next(spec_iter, None)
                    if spec is None:
                        exhausted = True
                        break
                    submit(spec)
                if not running:
                    return
                wait_s = None
                if timeout_s is not None:
                    oldest = min(started for _, started, _ in running.values())
                    wait_s = max(0.01, oldest + timeout_s - time.monotonic())
                try:
                    waited = dd.wait(list(running), timeout=wait_s, return_when="FIRST_COMPLETED")
                    done = waited.done
                except TimeoutError:
                    done = set()
                for future in sorted(done, key=lambda f: running[f][0].trial_id):
                    spec, _, started_wall = running.pop(future)
                    yield from self._collect(future, spec, started_wall, retries, retry)
                if timeout_s is not None:
                    now = time.monotonic()
                    for future, (spec, started, started_wall) in list(running.items()):
                        if now - started >= timeout_s:
                            running.pop(future)
                            self._restart_worker_of(future)
                            yield timeout_result(
                                spec,
                                "dask",
                                timeout_s,
                                started_wall,
                                "future cancelled and its worker restarted",
                            )
        finally:
            for future in running:
                future.cancel()

    def _collect(
        self,
        future: Future,
        spec: TrialSpec,
        started_wall: float,
        retries: int,
        retry: list[TrialSpec],
    ) -> Iterator[TrialResult]:
        try:
            yield future.result()
        except dd.KilledWorker as exc:
            if spec.attempt < retries:
                retry.append(spec.retry())
            else:
                yield crashed_result(spec, "dask", f"workers died under it ({exc})", started_wall)
        except Exception as exc:  # the task itself could not run (e.g. unpicklable fn)
            yield error_result(spec, "dask", exc, started_wall)

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
