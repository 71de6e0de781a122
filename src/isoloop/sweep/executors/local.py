"""In-process executors: `serial` (the reference and debugger) and `thread`.

Both run the exact wrapper the worker processes run (`execute_trial`). Neither
can stop a running trial: `serial` ignores `timeout_s`; `thread` records a
trial that overruns it as "timeout" and moves on, but the thread keeps running
until the trial returns (Python cannot kill a thread) — use `process` when
trials may hang.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from isoloop.data.bars import MarketData
from isoloop.sweep.executors.base import (
    ClosingExecutor,
    DataHandle,
    InMemoryHandle,
    TrialFn,
    execute_trial,
    timeout_result,
)
from isoloop.sweep.spec import TrialResult, TrialSpec, worker_name

__all__ = ["SerialExecutor", "ThreadExecutor"]


class _InProcess(ClosingExecutor):
    name = "serial"
    workers = 1

    def share(self, data: MarketData) -> InMemoryHandle:
        return InMemoryHandle(data)


class SerialExecutor(_InProcess):
    """One trial at a time in the driver: results in spec order."""

    name = "serial"

    def map(
        self,
        fn: TrialFn,
        specs: Iterator[TrialSpec],
        handle: DataHandle,
        *,
        context: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        retries: int = 2,
        max_in_flight: int | None = None,
    ) -> Iterator[TrialResult]:
        data = handle.open()
        ctx = dict(context or {})
        for spec in specs:
            yield execute_trial(fn, spec, data, ctx)


class ThreadExecutor(_InProcess):
    """`workers` threads sharing the driver's data (the strictest test of run isolation)."""

    name = "thread"

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None

    def map(
        self,
        fn: TrialFn,
        specs: Iterator[TrialSpec],
        handle: DataHandle,
        *,
        context: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        retries: int = 2,
        max_in_flight: int | None = None,
    ) -> Iterator[TrialResult]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="isoloop-trial")
        pool = self._pool
        data = handle.open()
        ctx = dict(context or {})
        cap = max(1, max_in_flight or 2 * self.workers)
        running: dict[Future[TrialResult], tuple[TrialSpec, float]] = {}
        spec_iter = iter(specs)
        exhausted = False
        while True:
            while not exhausted and len(running) < cap:
                spec = next(spec_iter, None)
                if spec is None:
                    exhausted = True
                    break
                future = pool.submit(execute_trial, fn, spec, data, ctx)
                running[future] = (spec, time.monotonic())
            if not running:
                return
            wait_s: float | None = None
            if timeout_s is not None:
                oldest = min(started for _, started in running.values())
                wait_s = max(0.0, oldest + timeout_s - time.monotonic())
            done, _ = wait(running, timeout=wait_s, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: running[f][0].trial_id):
                running.pop(future)
                yield future.result()
            if timeout_s is not None:
                now = time.monotonic()
                for future, (spec, started) in sorted(
                    running.items(), key=lambda item: item[1][0].trial_id
                ):
                    if now - started >= timeout_s:
                        running.pop(future)
                        yield timeout_result(
                            spec,
                            worker_name(),
                            timeout_s,
                            time.time() - (now - started),
                            "the thread cannot be stopped and runs on",
                        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
