"""In-process executors: `serial` (the reference and debugger) and `thread`.

Both run the exact wrapper the worker processes run (`execute_trial`). Neither
can stop a running trial: `serial` ignores `timeout_s`; `thread` records a
trial that overruns it as "timeout" and moves on, but the thread keeps running
until the trial returns (Python cannot kill a thread) — use `process` when
trials may hang.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from isoloop.data.bars import MarketData
from isoloop.sweep.executors.base import (
    DataHandle,
    InMemoryHandle,
    TrialContext,
    TrialFn,
    execute_trial,
)
from isoloop.sweep.executors.loop import Event, Finished, LoopExecutor
from isoloop.sweep.spec import TrialResult, TrialSpec, worker_name

__all__ = ["SerialExecutor", "ThreadExecutor"]


@dataclass(frozen=True, slots=True)
class _Job:
    """One map's trial function, opened data and context."""

    fn: TrialFn
    data: MarketData
    context: TrialContext

    def run(self, spec: TrialSpec) -> TrialResult:
        return execute_trial(self.fn, spec, self.data, self.context)


class SerialExecutor(LoopExecutor[int]):
    """One trial at a time in the driver: results in spec order."""

    name = "serial"
    workers = 1
    supports_timeout = False

    def __init__(self) -> None:
        self._job: _Job | None = None
        self._done: dict[int, TrialResult] = {}

    def share(self, data: MarketData) -> InMemoryHandle:
        return InMemoryHandle(data)

    def start(self, fn: TrialFn, handle: DataHandle, context: TrialContext) -> None:
        self._job = _Job(fn, handle.open(), context)
        self._done = {}

    def in_flight_cap(self, max_in_flight: int | None, timeout_s: float | None) -> int:
        return 1

    def submit(self, spec: TrialSpec) -> int:
        assert self._job is not None
        self._done[spec.trial_id] = self._job.run(spec)  # runs to completion here
        return spec.trial_id

    def wait_any(self, tickets: Sequence[int], timeout_s: float | None) -> list[Event[int]]:
        return [Finished(t, self._done.pop(t)) for t in tickets]

    def worker_of(self, ticket: int) -> str:
        return worker_name()

    def kill(self, ticket: int) -> str:  # never called: serial trials cannot time out
        return "the trial ran to completion"

    def cancel(self, ticket: int) -> None:
        self._done.pop(ticket, None)

    def finish(self) -> None:
        self._job, self._done = None, {}


class ThreadExecutor(LoopExecutor["Future[TrialResult]"]):
    """`workers` threads sharing the driver's data (the strictest test of run isolation)."""

    name = "thread"

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._job: _Job | None = None

    def share(self, data: MarketData) -> InMemoryHandle:
        return InMemoryHandle(data)

    def start(self, fn: TrialFn, handle: DataHandle, context: TrialContext) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="isoloop-trial")
        self._job = _Job(fn, handle.open(), context)

    def in_flight_cap(self, max_in_flight: int | None, timeout_s: float | None) -> int:
        return max(1, max_in_flight or 2 * self.workers)

    def submit(self, spec: TrialSpec) -> Future[TrialResult]:
        assert self._pool is not None and self._job is not None
        return self._pool.submit(self._job.run, spec)

    def wait_any(
        self, tickets: Sequence[Future[TrialResult]], timeout_s: float | None
    ) -> list[Event[Future[TrialResult]]]:
        done, _ = wait(tickets, timeout=timeout_s, return_when=FIRST_COMPLETED)
        return [Finished(future, future.result()) for future in done]

    def worker_of(self, ticket: Future[TrialResult]) -> str:
        return worker_name()

    def kill(self, ticket: Future[TrialResult]) -> str:
        return "the thread cannot be stopped and runs on"

    def cancel(self, ticket: Future[TrialResult]) -> None:
        ticket.cancel()  # only a queued trial: a running thread cannot be stopped

    def finish(self) -> None:
        self._job = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
