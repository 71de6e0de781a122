"""Calls on a helper thread with a deadline: the kernel's one way to bound a call.

A Python thread cannot be interrupted, so a call that may hang runs on a daemon
helper thread while its caller waits with a timeout. Helpers are reused (one
hand-off per batch of calls, not per call) and replaced only when a call hangs:
the hung helper is abandoned, its batch is cancelled so it never runs the rest
of the batch once the hang ends, and it exits instead of idling forever.

Three ways to wait:
  * `run` — ordered calls, each with its own timeout; every call runs even if
    one fails or hangs (teardown). With `on_late`, a call past its timeout is
    reported once and then waited for, never abandoned (operator hooks, whose
    later events must keep their order).
  * `run_parallel` — calls at once, sharing one deadline (stopping containers).
  * `call` — one call; its error, or a `TimeoutError`, is raised to the caller.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["CallOutcome", "TimedCalls", "call_with_timeout"]

Call = tuple[str, Callable[[], object]]

_DONE = object()


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """How one named call ended: `error` is None on success; `timed_out` if abandoned."""

    name: str
    error: BaseException | None = None
    timed_out: bool = False


class _Batch:
    __slots__ = ("calls", "cancelled")

    def __init__(self, calls: Sequence[Call]) -> None:
        self.calls = calls
        # Set by the caller when it gives up on a hung call, so the abandoned thread
        # never runs the rest of the batch a second time once the hang ends.
        self.cancelled = False


class _Worker:
    """One daemon thread that runs batches of calls in order."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self.results: queue.SimpleQueue[tuple[str, BaseException | None] | object] = (
            queue.SimpleQueue()
        )
        self.thread = threading.Thread(target=self._loop, name="isoloop-timed", daemon=True)
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
            if batch.cancelled:
                return
            self.results.put(_DONE)

    def abandon(self, batch: _Batch) -> None:
        batch.cancelled = True
        self.jobs.put(None)  # exits once the hang ends, even if the batch had just finished


def _timeout(label: str, name: str, timeout: float) -> TimeoutError:
    return TimeoutError(f"{label.format(name=name)} did not finish within {timeout:g}s")


class TimedCalls:
    """Runs named calls on reusable helper threads, each bounded by a timeout.

    Thread-safe; idle helpers are kept for the next caller. `label` formats the
    `TimeoutError` message from a call's name (`"stop of module {name!r}"`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._closed = False

    def run(
        self,
        calls: Sequence[Call],
        timeout: float,
        *,
        label: str = "{name}",
        on_late: Callable[[str], object] | None = None,
    ) -> list[CallOutcome]:
        """Every call, in order, each given `timeout` seconds; one outcome per call."""
        outcomes: list[CallOutcome] = []
        remaining = list(calls)
        while remaining:
            worker = self._acquire()
            batch = _Batch(remaining)
            worker.jobs.put(batch)
            hung = False
            for name, _ in remaining:
                try:
                    item = worker.results.get(timeout=timeout)
                except queue.Empty:
                    if on_late is not None:
                        on_late(name)
                        item = worker.results.get()
                    else:
                        err = _timeout(label, name, timeout)
                        outcomes.append(CallOutcome(name, err, timed_out=True))
                        hung = True
                        break
                assert isinstance(item, tuple)
                outcomes.append(CallOutcome(item[0], item[1]))
            if hung:
                # The helper is stuck inside a call; abandon it and go on with the rest
                # on a fresh one.
                worker.abandon(batch)
                remaining = list(calls)[len(outcomes) :]
                continue
            end = worker.results.get()
            assert end is _DONE
            self._release(worker)
            remaining = []
        return outcomes

    def run_parallel(
        self, calls: Sequence[Call], timeout: float, *, label: str = "{name}"
    ) -> list[CallOutcome]:
        """Every call at once, each on its own helper; all share one `timeout` deadline."""
        running: list[tuple[str, _Worker, _Batch]] = []
        for name, fn in calls:
            worker = self._acquire()
            batch = _Batch(((name, fn),))
            worker.jobs.put(batch)
            running.append((name, worker, batch))
        deadline = time.monotonic() + timeout
        outcomes: list[CallOutcome] = []
        for name, worker, batch in running:
            try:
                item = worker.results.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                worker.abandon(batch)
                outcomes.append(CallOutcome(name, _timeout(label, name, timeout), timed_out=True))
                continue
            assert isinstance(item, tuple)
            outcomes.append(CallOutcome(item[0], item[1]))
            end = worker.results.get()
            assert end is _DONE
            self._release(worker)
        return outcomes

    def call(self, fn: Callable[[], object], timeout: float, what: str) -> None:
        """Run `fn` within `timeout` seconds; raise its error, or TimeoutError naming `what`."""
        outcome = self.run(((what, fn),), timeout)[0]
        if outcome.error is not None:
            raise outcome.error

    def _acquire(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Worker()

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(worker)
                return
        worker.jobs.put(None)

    def close(self) -> None:
        """Let idle helpers exit; helpers still busy exit when their call returns."""
        with self._lock:
            self._closed = True
            workers, self._idle = self._idle, []
        for worker in workers:
            worker.jobs.put(None)


def call_with_timeout(fn: Callable[[], object], timeout: float, what: str) -> None:
    """Run `fn` on a fresh helper thread; raise its error, or TimeoutError after `timeout`.

    For a one-off call; code that bounds calls repeatedly keeps a `TimedCalls`.
    """
    calls = TimedCalls()
    try:
        calls.call(fn, timeout, what)
    finally:
        calls.close()
