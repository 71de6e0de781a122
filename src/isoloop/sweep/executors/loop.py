"""The one scheduling loop every executor runs: submit, wait for any, time out, retry, record.

A backend (serial, thread, process, dask, ray) supplies only what differs
between them — how to start a map, submit one spec, wait for whatever finishes
next, name the worker and stop a trial — as the abstract methods of
`LoopExecutor`. Everything else is decided here, once:

- specs are pulled lazily, at most `in_flight_cap` outstanding, retries first;
- a trial whose worker died is resubmitted (attempt + 1) up to `retries` times,
  then recorded "crashed"; no other trial is resubmitted;
- a backend may send several trials as one task (`batches`: dask, ray, see
  `chunks.py`): the loop then looks ahead (still at most `in_flight_cap`
  specs held), asks the backend how many to send at once, and a trial the
  backend hands back (`Requeued`: its chunk was lost with a worker that died
  under another trial) runs again with its attempt unchanged;
- a trial past `timeout_s` is stopped by the backend and recorded "timeout";
  the clock starts at submission, or — for a backend that can tell (Ray,
  `reports_start`) — when the trial's body begins on a worker (a `Started`
  event), so a fresh worker process starting up and importing on a busy
  machine is not the trial's time; such a trial that has not begun
  `START_GRACE_S` after its timeout is recorded "timeout" too (a worker that
  never comes up must not hang the sweep); a trial whose clock has not started
  (`clock_stopped`: queued behind an earlier trial of its chunk) has no deadline;
- results that arrive together are yielded in trial-id order (the driver keys
  everything by trial id, so no outcome depends on completion order);
- an abandoned map (the consumer stops iterating) cancels what is still running,
  and every map ends by letting the backend drop its per-map state (`finish`).
"""

from __future__ import annotations

import itertools
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from isoloop.sweep.executors.base import (
    ClosingExecutor,
    TrialContext,
    TrialFn,
    crashed_result,
    error_result,
    freeze_context,
    timeout_result,
)
from isoloop.sweep.spec import TrialResult, TrialSpec

__all__ = [
    "Event",
    "Finished",
    "LoopExecutor",
    "Requeued",
    "Started",
    "TaskFailed",
    "WorkerDied",
    "run_trials",
]

#: What a backend hands back for a submitted trial: a future, an object ref, a worker slot.
T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Finished(Generic[T]):
    """The trial ran (its own exceptions are already inside the result, status "error")."""

    ticket: T
    result: TrialResult


@dataclass(frozen=True, slots=True)
class WorkerDied(Generic[T]):
    """The process running the trial died under it (killed, OOM, segfault): retry it."""

    ticket: T
    worker: str
    reason: str


@dataclass(frozen=True, slots=True)
class TaskFailed(Generic[T]):
    """The engine could not run the trial at all (e.g. an unpicklable function)."""

    ticket: T
    worker: str
    error: BaseException


@dataclass(frozen=True, slots=True)
class Started(Generic[T]):
    """The trial's body began on a worker: its timeout counts from then (`at`, a
    `time.monotonic()` reading of this host; None: now)."""

    ticket: T
    at: float | None = None


@dataclass(frozen=True, slots=True)
class Requeued(Generic[T]):
    """The trial's task was lost through no fault of the trial: run it again, same attempt."""

    ticket: T


Event: TypeAlias = Finished[T] | WorkerDied[T] | TaskFailed[T] | Started[T] | Requeued[T]


class LoopExecutor(ClosingExecutor, ABC, Generic[T]):
    """An executor whose `map` is the shared loop; subclasses supply the operations below."""

    name: str
    workers: int
    #: False when the backend cannot even notice an overrunning trial (serial runs
    #: each trial to completion inside `submit`): `timeout_s` is then ignored.
    supports_timeout: bool = True
    #: True when the backend sends a `Started` event as each trial's body begins:
    #: the timeout then counts from that event instead of from submission.
    reports_start: bool = False
    #: True when `submit_chunk` runs several trials as one task (`chunk_size` > 1).
    batches: bool = False

    def map(
        self,
        fn: TrialFn,
        specs: Iterator[TrialSpec],
        handle: Any,
        *,
        context: TrialContext | None = None,
        timeout_s: float | None = None,
        retries: int = 2,
        max_in_flight: int | None = None,
    ) -> Iterator[TrialResult]:
        """Pull specs lazily (at most `max_in_flight` outstanding), yield each result once."""
        return run_trials(
            self,
            fn,
            specs,
            handle,
            context=context,
            timeout_s=timeout_s if self.supports_timeout else None,
            retries=retries,
            max_in_flight=max_in_flight,
        )

    # -- the backend's operations ------------------------------------------------------
    @abstractmethod
    def start(self, fn: TrialFn, handle: Any, context: TrialContext) -> None:
        """Prepare a map of `fn` over the shared data (called once, before any submit)."""

    @abstractmethod
    def in_flight_cap(self, max_in_flight: int | None, timeout_s: float | None) -> int:
        """How many trials may be outstanding at once."""

    def ready(self) -> bool:
        """Whether a trial submitted now would be accepted (a process needs an idle worker)."""
        return True

    @abstractmethod
    def submit(self, spec: TrialSpec) -> T:
        """Start one trial; returns the ticket its events will carry."""

    def chunk_size(self, known: int, exhausted: bool) -> int:
        """How many of the `known` specs waiting to be sent the next task takes."""
        return 1

    def submit_chunk(self, specs: Sequence[TrialSpec]) -> list[T]:
        """Start trials as one task; a ticket per spec, in order."""
        return [self.submit(spec) for spec in specs]

    def clock_stopped(self, ticket: T) -> bool:
        """Whether the trial is waiting on an earlier trial of its own task (no deadline)."""
        return False

    @abstractmethod
    def wait_any(self, tickets: Sequence[T], timeout_s: float | None) -> list[Event[T]]:
        """Block until something happens (or `timeout_s`); may return no event."""

    @abstractmethod
    def worker_of(self, ticket: T) -> str:
        """The worker to name in a timeout record."""

    @abstractmethod
    def kill(self, ticket: T) -> str:
        """Stop an overrunning trial; returns what was done, for the timeout record."""

    @abstractmethod
    def cancel(self, ticket: T) -> None:
        """Abandon a trial nobody waits for any more (the map was not run to the end)."""

    def finish(self) -> None:
        """The map is over (run to the end or abandoned): drop what `start` kept for it."""


#: How much longer than its timeout a trial may wait for a worker to begin it, on a
#: backend that reports starts (a fresh Ray worker can take a minute on a busy box).
START_GRACE_S = 120.0


@dataclass(frozen=True, slots=True)
class _Running:
    spec: TrialSpec
    started_mono: float
    started_wall: float
    # False until a backend that reports starts has said the body began.
    begun: bool = True

    def deadline(self, timeout_s: float) -> float:
        return self.started_mono + timeout_s + (0.0 if self.begun else START_GRACE_S)


def run_trials(
    backend: LoopExecutor[T],
    fn: TrialFn,
    specs: Iterator[TrialSpec],
    handle: Any,
    *,
    context: TrialContext | None,
    timeout_s: float | None,
    retries: int,
    max_in_flight: int | None,
) -> Iterator[TrialResult]:
    """The loop behind every `map`: yields one result per spec, in completion order."""
    spec_iter = iter(specs)
    first = next(spec_iter, None)
    if first is None:
        return  # nothing to run (e.g. a fully resumed sweep): start no worker
    spec_iter = itertools.chain([first], spec_iter)
    backend.start(fn, handle, freeze_context(context))
    cap = backend.in_flight_cap(max_in_flight, timeout_s)
    running: dict[T, _Running] = {}
    retry: deque[TrialSpec] = deque()  # after a worker death: attempt + 1, sent alone
    queued: deque[TrialSpec] = deque()  # pulled (look-ahead) or handed back, not sent
    exhausted = False
    try:
        while True:
            while len(running) < cap and (retry or queued or not exhausted) and backend.ready():
                if retry:
                    batch = [retry.popleft()]
                else:
                    # Without batching, pull one spec at a time, as it is sent.
                    while not exhausted and len(running) + len(queued) < cap:
                        if queued and not backend.batches:
                            break
                        spec = next(spec_iter, None)
                        if spec is None:
                            exhausted = True
                        else:
                            queued.append(spec)
                    if not queued:
                        break
                    n = backend.chunk_size(len(queued), exhausted) if backend.batches else 1
                    batch = [queued.popleft() for _ in range(max(1, min(n, len(queued))))]
                begun = not backend.reports_start
                now, wall = time.monotonic(), time.time()
                for spec, ticket in zip(batch, backend.submit_chunk(batch), strict=True):
                    running[ticket] = _Running(spec, now, wall, begun)
            if not running and exhausted and not retry and not queued:
                return
            events = backend.wait_any(list(running), _wait_s(backend, running, timeout_s))
            out = _settle(events, running, retry, queued, retries)
            if timeout_s is not None:
                out += _expire(backend, running, timeout_s)
            yield from out
    finally:
        for ticket in list(running):
            backend.cancel(ticket)
        backend.finish()


def _timed(backend: LoopExecutor[T], ticket: T) -> bool:
    """Whether the trial is on the clock (one queued behind, or finished inside, its
    chunk is not: its result travels with the chunk)."""
    return not backend.clock_stopped(ticket)


def _wait_s(
    backend: LoopExecutor[T], running: dict[T, _Running], timeout_s: float | None
) -> float | None:
    """Until the first running trial's deadline (forever without a timeout)."""
    if timeout_s is None or not running:
        return None
    deadlines = [t.deadline(timeout_s) for k, t in running.items() if _timed(backend, k)]
    if not deadlines:
        return None
    return max(0.0, min(deadlines) - time.monotonic())


def _settle(
    events: list[Event[T]],
    running: dict[T, _Running],
    retry: deque[TrialSpec],
    queued: deque[TrialSpec],
    retries: int,
) -> list[TrialResult]:
    out: list[TrialResult] = []
    handed_back: list[TrialSpec] = []
    # An event for a trial already settled (e.g. a start reported after its result) is moot.
    live = [e for e in events if e.ticket in running]
    for event in sorted(live, key=lambda e: running[e.ticket].spec.trial_id):
        if event.ticket not in running:  # a start and a result for it in one batch
            continue
        if isinstance(event, Started):
            task = running[event.ticket]
            now_mono, now_wall = time.monotonic(), time.time()
            at = now_mono if event.at is None else min(event.at, now_mono)
            running[event.ticket] = _Running(task.spec, at, now_wall - (now_mono - at))
            continue
        task = running.pop(event.ticket)
        if isinstance(event, Requeued):
            handed_back.append(task.spec)
        elif isinstance(event, Finished):
            out.append(event.result)
        elif isinstance(event, WorkerDied):
            if task.spec.attempt < retries:
                retry.append(task.spec.retry())
            else:
                out.append(crashed_result(task.spec, event.worker, event.reason, task.started_wall))
        else:
            out.append(error_result(task.spec, event.worker, event.error, task.started_wall))
    queued.extendleft(reversed(handed_back))  # first in line, in trial-id order
    return out


def _expire(
    backend: LoopExecutor[T], running: dict[T, _Running], timeout_s: float
) -> list[TrialResult]:
    out: list[TrialResult] = []
    now = time.monotonic()
    for ticket, task in sorted(running.items(), key=lambda item: item[1].spec.trial_id):
        if _timed(backend, ticket) and now >= task.deadline(timeout_s):
            del running[ticket]
            worker = backend.worker_of(ticket)
            action = backend.kill(ticket)
            if not task.begun:
                action = f"no worker began it within {timeout_s + START_GRACE_S:g}s; {action}"
            out.append(timeout_result(task.spec, worker, timeout_s, task.started_wall, action))
    return out
