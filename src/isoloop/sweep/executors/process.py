"""`process`: a pool of worker processes that the driver can kill one at a time.

Why not loky or `ProcessPoolExecutor`: both lose or fail every pending future
when one worker dies, and neither can stop one hung task without breaking the
pool (research/distributed-anchors.md §2). Here each worker is a
`multiprocessing` process with its own pipe, running one trial at a time, so
the driver always knows which trial runs where:

- a trial past `timeout_s` → its worker is SIGKILLed (the core is freed), the
  trial is recorded "timeout", a fresh worker takes the slot;
- a worker that dies under a trial (SIGKILL, OOM killer, segfault) → that trial
  alone is resubmitted (attempt + 1) up to `retries` times, then "crashed";
  no other trial is lost or run twice;
- with `trial_memory_mb`, a trial that allocates more than that is refused the
  allocation (`MemoryError`, see `memory.py`) and recorded "memory";
- after each trial a worker compares its RSS (current and high-water mark) with
  `memory_limit_mb` and counts trials against `recycle_after`; past either, or
  after a "memory" trial, it sends its result flagged `recycled` and exits, and
  a fresh worker replaces it.

The retry, timeout and bookkeeping rules are the shared loop's
(`executors/loop.py`); each trial sent gets a ticket naming its worker, and
waiting watches every worker's pipe and exit sentinel. While a worker's trials
are short (under `PREFETCH_BELOW_S`) it is sent its next trial before the
running one ends and begins it without a round trip through the driver (on two
busy cores a fifth of a 5 ms trial). A waiting trial has no deadline until it
begins, and runs again elsewhere, attempt unchanged, if its worker dies, is
killed or recycles first; behind a slow trial nothing waits, so the sweep's
tail never queues while a worker idles. `max_in_flight` below
`workers × (1 + PREFETCH)` caps the trials outstanding. Workers are forked where
the platform allows it (else spawned, or with `start_method="spawn"`) and open
the shared data once: bars written once to `.npy` files under /dev/shm,
memory-mapped read-only by every worker.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
import selectors
import socket
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Any

from isoloop.data.bars import MarketData
from isoloop.data.fingerprint import fingerprint
from isoloop.sweep.executors.base import (
    DataHandle,
    ExecutorError,
    MemmapHandle,
    TrialContext,
    TrialFn,
)
from isoloop.sweep.executors.loop import (
    Event,
    Finished,
    LoopExecutor,
    Requeued,
    Started,
    WorkerDied,
)
from isoloop.sweep.executors.process_worker import WorkerInit, worker_main
from isoloop.sweep.spec import TrialResult, TrialSpec

__all__ = ["PREFETCH", "PREFETCH_BELOW_S", "ProcessExecutor"]

_MAX_START_FAILURES = 3
#: How many trials a worker may hold waiting behind the one it runs.
PREFETCH = 1
#: A queued spec larger than this waits in the driver, not in the worker's pipe.
_QUEUE_BYTES = 16 * 1024
#: A worker whose last trial took at least this long gets no trial queued behind
#: the next: a round trip is nothing beside it, and a queued trial could wait on a
#: long one at the sweep's end while another worker idles.
PREFETCH_BELOW_S = 0.25


@dataclass(slots=True, eq=False)  # identity: one worker process and its pipe
class _Slot:
    proc: BaseProcess
    conn: Connection
    pid: int
    ready: bool = False
    # The trials sent to this worker, oldest (the one it runs) first.
    queue: deque[_Ticket] = field(default_factory=deque)
    # Whether its last trial was short enough to queue another behind the next.
    prefetch: bool = False

    @property
    def name(self) -> str:
        return f"{socket.gethostname()}:{self.pid}"

    def room(self) -> bool:
        """Whether this worker takes another trial now."""
        return self.ready and (not self.queue or (self.prefetch and len(self.queue) <= PREFETCH))


@dataclass(slots=True, eq=False)  # identity: a ticket is one trial given to one worker
class _Ticket:
    slot: _Slot
    spec: TrialSpec
    # A pickled spec too big for the pipe waits here until its worker reads: a busy
    # worker reads nothing, and a full pipe would block the driver (or deadlock it
    # against a large result the worker writes back).
    unsent: bytes | None = None


class ProcessExecutor(LoopExecutor[_Ticket]):
    """N single-trial worker processes with per-trial timeout, crash retry and recycling."""

    name = "process"

    def __init__(
        self,
        workers: int = 2,
        *,
        memory_limit_mb: float | None = None,
        recycle_after: int | None = None,
        trial_memory_mb: float | None = None,
        start_method: str | None = None,
    ) -> None:
        if workers < 1:
            raise ExecutorError(f"executor.workers must be >= 1, got {workers}")
        self.workers = workers
        self.memory_limit_mb = memory_limit_mb
        self.recycle_after = recycle_after
        self.trial_memory_mb = trial_memory_mb
        # fork starts a worker in milliseconds (the driver has already imported
        # everything); spawn re-imports isoloop, pandas and numpy (≈2 s here). Workers
        # touch nothing of the driver but the pickled init and the memmapped bars.
        # With a per-trial memory budget workers are spawned: the kernel counts the
        # budget from what the worker has mapped, and a forked worker has mapped the
        # driver's heap, whose free space a trial then reuses uncounted (measured: a
        # 400 MB budget let a trial hold 550 MB in workers forked from a large process).
        forkable = "fork" in mp.get_all_start_methods() and trial_memory_mb is None
        method = start_method or ("fork" if forkable else "spawn")
        self._ctx: Any = mp.get_context(method)
        self._shared: dict[tuple[tuple[str, str], ...], MemmapHandle] = {}
        self._slots: list[_Slot] = []
        self._pool_key: tuple[Any, ...] | None = None
        self._init: WorkerInit | None = None
        self._handles: list[MemmapHandle] = []
        self._start_failures = 0
        # Learnt outside `wait_any` (trials queued at a worker killed for a timeout).
        self._pending: list[Event[_Ticket]] = []
        # Every worker's pipe and exit sentinel, registered once per worker: waiting
        # is one poll, not a selector built and filled on every wait (a wait per trial).
        # A poll selector holds no file descriptor of its own for forked workers to inherit.
        self._watched = selectors.PollSelector()

    # -- data -----------------------------------------------------------------
    def share(self, data: MarketData) -> MemmapHandle:
        # Identical bars share one handle, so a second sweep over the same data (a
        # resumed sweep, the next Optuna study, another walk-forward config) keeps the
        # running workers instead of restarting them.
        key = tuple((symbol, fingerprint(bars)) for symbol, bars in data.items())
        handle = self._shared.get(key)
        if handle is None:
            handle = MemmapHandle.write(data)
            self._handles.append(handle)
            self._shared[key] = handle
        return handle

    # -- workers --------------------------------------------------------------
    def _spawn(self) -> _Slot:
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=worker_main,
            args=(child, os.getpid(), self._init),
            name="isoloop-sweep-worker",
            daemon=True,
        )
        try:
            proc.start()
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            parent.close()
            child.close()
            raise ExecutorError(
                f"process executor: cannot send the trial function, data handle or context "
                f"to a worker ({exc}); the function must be a module-level importable "
                "callable and the context plain JSON-able values"
            ) from None
        child.close()
        assert proc.pid is not None
        slot = _Slot(proc=proc, conn=parent, pid=proc.pid)
        self._watched.register(parent, selectors.EVENT_READ)
        self._watched.register(proc.sentinel, selectors.EVENT_READ)
        return slot

    def _stop(self, slot: _Slot, *, kill: bool) -> None:
        for watched in (slot.conn, slot.proc.sentinel):
            with contextlib.suppress(KeyError, ValueError):
                self._watched.unregister(watched)
        if kill:
            with contextlib.suppress(OSError):
                slot.proc.kill()
        else:
            with contextlib.suppress(OSError, BrokenPipeError):
                slot.conn.send(None)
        slot.proc.join(timeout=None if kill else 5.0)
        if slot.proc.is_alive():
            slot.proc.kill()
            slot.proc.join()
        slot.conn.close()

    def _replace(self, slot: _Slot, *, kill: bool = True) -> list[_Ticket]:
        """A fresh worker in `slot`'s place; returns the trials the old one still held."""
        held = list(slot.queue)
        slot.queue.clear()
        self._stop(slot, kill=kill)
        self._slots[self._slots.index(slot)] = self._spawn()
        return held

    def _shutdown_workers(self) -> None:
        for slot in self._slots:
            self._stop(slot, kill=bool(slot.queue))
        self._slots = []

    # -- the loop's operations ------------------------------------------------
    def start(self, fn: TrialFn, handle: DataHandle, context: TrialContext) -> None:
        key = (fn, handle, context)
        try:
            same = key == self._pool_key
        except Exception:
            same = False
        if not same:
            self._shutdown_workers()
            self._pool_key = key
            self._init = WorkerInit(
                fn,
                handle,
                context,
                self.memory_limit_mb,
                self.recycle_after,
                self.trial_memory_mb,
            )
        while len(self._slots) < self.workers:
            self._slots.append(self._spawn())

    def in_flight_cap(self, max_in_flight: int | None, timeout_s: float | None) -> int:
        most = self.workers * (1 + PREFETCH)
        return max(1, min(most, max_in_flight or most))

    def _open(self) -> _Slot | None:
        """An idle worker if there is one, else one that may queue a trial."""
        idle = next((s for s in self._slots if s.ready and not s.queue), None)
        return idle or next((s for s in self._slots if s.room()), None)

    def ready(self) -> bool:
        return self._open() is not None

    def submit(self, spec: TrialSpec) -> _Ticket:
        slot = self._open()
        assert slot is not None
        payload = bytes(ForkingPickler.dumps(spec))
        ticket = _Ticket(slot, spec)
        if slot.queue and len(payload) > _QUEUE_BYTES:
            ticket.unsent = payload
        else:
            slot.conn.send_bytes(payload)
        slot.queue.append(ticket)
        return ticket

    def clock_stopped(self, ticket: _Ticket) -> bool:
        # Waiting behind the trial its worker runs, or handed back to run elsewhere.
        queue = ticket.slot.queue
        return not queue or queue[0] is not ticket

    def wait_any(self, tickets: Sequence[_Ticket], timeout_s: float | None) -> list[Event[_Ticket]]:
        if self._pending:
            pending, self._pending = self._pending, []
            return pending
        # Every worker is watched, busy or not: a starting one reports "ready", any may die.
        ready = {key.fileobj for key, _ in self._watched.select(timeout_s)}
        events: list[Event[_Ticket]] = []
        for slot in list(self._slots):
            if slot.conn in ready:
                try:
                    message = slot.conn.recv()
                except (EOFError, OSError):
                    slot.proc.join(timeout=5.0)
                    events += self._on_death(slot)
                    continue
                events += self._on_message(slot, message)
            elif slot.proc.sentinel in ready:
                slot.proc.join(timeout=5.0)
                events += self._on_death(slot)
        return events

    def _on_death(self, slot: _Slot) -> list[Event[_Ticket]]:
        code = slot.proc.exitcode
        events: list[Event[_Ticket]] = []
        if not slot.queue and not slot.ready:
            self._start_failures += 1
            if self._start_failures >= _MAX_START_FAILURES:
                raise ExecutorError(
                    f"process executor: {self._start_failures} workers died while "
                    f"starting (last exit code {code}); check that the trial function "
                    "is importable and the data handle opens"
                )
        held = self._replace(slot)
        if held:
            # The trial it ran died with it; those waiting behind it never began.
            events.append(
                WorkerDied(held[0], slot.name, f"worker {slot.pid} died (exit code {code})")
            )
            events += [Requeued(t) for t in held[1:]]
        return events

    def _on_message(self, slot: _Slot, message: tuple[str, Any]) -> list[Event[_Ticket]]:
        kind, payload = message
        if kind == "ready":
            slot.ready = True
            self._start_failures = 0
            return []
        if kind == "start_error":
            raise ExecutorError(f"process executor: a worker could not start: {payload}")
        if kind != "result" or not slot.queue:
            return []
        result: TrialResult = payload
        done = slot.queue.popleft()
        events: list[Event[_Ticket]] = [Finished(done, result)]
        if result.recycled:  # the worker has exited: a fresh one takes the slot
            events += [Requeued(t) for t in self._replace(slot, kill=False)]
            return events
        took = (result.finished_at or 0.0) - (result.started_at or 0.0)
        slot.prefetch = 0.0 <= took < PREFETCH_BELOW_S
        if slot.queue:  # the worker began the next trial as it sent this result
            head = slot.queue[0]
            if head.unsent is not None:
                slot.conn.send_bytes(head.unsent)
                head.unsent = None
            events.append(Started(head, time.monotonic()))
        return events

    def worker_of(self, ticket: _Ticket) -> str:
        return ticket.slot.name

    def kill(self, ticket: _Ticket) -> str:
        slot = ticket.slot
        if slot in self._slots:
            held = self._replace(slot)
            self._pending += [Requeued(t) for t in held if t is not ticket]
        return f"worker {slot.pid} killed and replaced"

    def cancel(self, ticket: _Ticket) -> None:
        # Abandoned mid-way: a busy worker would answer a spec nobody waits for.
        if ticket.slot in self._slots and ticket in ticket.slot.queue:
            self._replace(ticket.slot)

    def finish(self) -> None:
        self._pending = []

    # -- lifecycle --------------------------------------------------------------
    def worker_pids(self) -> list[int]:
        return [s.pid for s in self._slots]

    def close(self) -> None:
        self._shutdown_workers()
        self._pool_key = None
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._shared = {}
