"""The worker side of the `process` executor: one process running trials it is sent.

A worker opens the shared data once, then loops: read a spec from its pipe, run
the trial, send the result. It checks its own memory after each trial and exits
(the driver starts a fresh one) past `memory_limit_mb` or `recycle_after`, and
exits with its parent should the driver die.
"""

from __future__ import annotations

import gc
import os
import resource
import signal
import threading
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection

from isoloop.data.bars import MarketData
from isoloop.sweep.executors.base import DataHandle, TrialContext, TrialFn, execute_trial
from isoloop.sweep.spec import TrialResult

__all__ = ["WorkerInit", "worker_main"]

#: The young generation's size in a worker after its first trial.
_YOUNG_OBJECTS = 100_000


@dataclass(slots=True)
class _WorkerState:
    """Everything a worker process keeps between trials (its only mutable state): built
    once in `worker_main`, the data opened once, then many trials run against it."""

    fn: TrialFn
    data: MarketData
    context: TrialContext
    memory_limit_mb: float | None
    recycle_after: int | None
    trial_memory_mb: float | None
    trials_done: int = 0

    def recycle_reason(self, result: TrialResult) -> str | None:
        if result.status == "memory":
            # What ran out of memory may have left the worker half-built or bloated.
            return "memory: the trial ran out of memory"
        if self.memory_limit_mb is not None:
            # Asked only when it matters: getrusage is ≈ 4 % of a short trial here.
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
            used = max(result.memory_rss_mb or 0.0, peak_mb)
            if used > self.memory_limit_mb:
                return f"memory: RSS {used:.0f} MB > memory_limit_mb {self.memory_limit_mb:g}"
        if self.recycle_after is not None and self.trials_done >= self.recycle_after:
            return f"recycle_after: {self.trials_done} trials"
        return None


def _exit_with_parent(parent_pid: int) -> None:
    # A SIGKILLed driver cannot stop its workers; a worker stuck in a trial would
    # otherwise hold a core until the trial ends.
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(1)


@dataclass(frozen=True, slots=True)
class WorkerInit:
    """Pickled once per worker at spawn (never per trial)."""

    fn: TrialFn
    handle: DataHandle
    context: TrialContext
    memory_limit_mb: float | None
    recycle_after: int | None
    trial_memory_mb: float | None


def worker_main(conn: Connection, parent_pid: int, init: WorkerInit) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides about Ctrl-C
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    try:
        state = _WorkerState(
            init.fn,
            init.handle.open(),
            init.context,
            init.memory_limit_mb,
            init.recycle_after,
            init.trial_memory_mb,
        )
    except Exception as exc:
        conn.send(("start_error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            spec = conn.recv()
        except (EOFError, OSError):
            return
        if spec is None:
            return
        result = execute_trial(state.fn, spec, state.data, state.context, state.trial_memory_mb)
        state.trials_done += 1
        if state.trials_done == 1:
            # What the first trial left (imports, the worker's coordinator, the mapped
            # data) lives as long as the worker: out of the collector's sight, each
            # later collection only walks what a trial allocates (a third less CPU per
            # trial on long runs). gc.freeze moves only what exists now. A young
            # generation of 100k objects: most of a trial's die by refcount unwalked,
            # cyclic garbage stays bounded (≈ 3 % less CPU per short trial).
            gc.collect()
            gc.freeze()
            gc.set_threshold(_YOUNG_OBJECTS, *gc.get_threshold()[1:])
        reason = state.recycle_reason(result)
        if reason is not None:
            result = replace(result, recycled=True, recycle_reason=reason)
        conn.send(("result", result))
        if reason is not None:
            return
