"""Run `stop()` calls with a per-component timeout.

A hung `stop()` cannot be interrupted from Python, so stops run on a helper
thread and the caller waits with a deadline. The helper is reused across
scopes (one hand-off per scope, not per component) and replaced only when a
stop hangs; the hung thread is a daemon and is abandoned.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["StopOutcome", "TeardownRunner"]

_DONE = object()


@dataclass(frozen=True, slots=True)
class StopOutcome:
    name: str
    error: BaseException | None


class _Batch:
    __slots__ = ("calls", "cancelled")

    def __init__(self, calls: Sequence[tuple[str, Callable[[], object]]]) -> None:
        self.calls = calls
        # Set by the caller when it gives up on a hung call, so the abandoned thread
        # never runs the rest of the batch a second time once the hang ends.
        self.cancelled = False


class _Worker:
    """One daemon thread that runs batches of stop calls in order."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self.results: queue.SimpleQueue[tuple[str, BaseException | None] | object] = (
            queue.SimpleQueue()
        )
        self.thread = threading.Thread(target=self._loop, name="isoloop-teardown", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            batch = self.jobs.get()
            if batch is None:
                return
            for name, call in batch.calls:
                if batch.cancelled:
                    return
                try:
                    call()
                except BaseException as exc:  # every failure is reported, none stops the batch
                    self.results.put((name, exc))
                else:
                    self.results.put((name, None))
            self.results.put(_DONE)


class TeardownRunner:
    """Runs ordered stop calls; each gets `timeout` seconds before it is abandoned."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []

    def run(
        self, calls: Sequence[tuple[str, Callable[[], object]]], timeout: float
    ) -> list[StopOutcome]:
        outcomes: list[StopOutcome] = []
        remaining = list(calls)
        if not remaining:
            return outcomes
        while remaining:
            worker = self._acquire()
            batch = _Batch(remaining)
            worker.jobs.put(batch)
            hung = False
            for name, _ in remaining:
                try:
                    item = worker.results.get(timeout=timeout)
                except queue.Empty:
                    outcomes.append(
                        StopOutcome(name, TimeoutError(f"stop() of {name!r} exceeded {timeout}s"))
                    )
                    hung = True
                    break
                assert isinstance(item, tuple)
                outcomes.append(StopOutcome(item[0], item[1]))
            if hung:
                # The worker is stuck inside a stop(); abandon it and go on with the rest
                # on a fresh one. Its batch is told to exit once the hang ends.
                batch.cancelled = True
                remaining = list(calls)[len(outcomes) :]
                continue
            end = worker.results.get()
            assert end is _DONE
            self._release(worker)
            remaining = []
        return outcomes

    def _acquire(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Worker()

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def close(self) -> None:
        with self._lock:
            workers, self._idle = self._idle, []
        for worker in workers:
            worker.jobs.put(None)
