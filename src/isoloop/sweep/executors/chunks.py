"""Trials batched into one task (dask, ray), recorded one by one.

A Dask or Ray task costs about a millisecond or more of scheduling, far more
than a short trial, so these executors send several trials per task (a
*chunk*) and the loop still sees one ticket, one result and one status per
trial. Chunks start small (1, 2, 4, … trials, so the first results show at
once), grow up to `MAX_CHUNK`, and shrink again as the search runs out, so the
last chunks spread over every worker.

What a chunk must not change is decided by a *progress record* the worker
writes before and after each trial: a 24-byte file under a folder the driver
made (in /dev/shm when present). It survives the worker process, so when a
worker dies the driver reads which trial was running: that trial alone is
blamed (retried with attempt + 1, then "crashed"); the chunk's other trials —
those not begun and those whose results died with the worker — are handed
back unchanged (`Requeued`) and run again. The same record tells the loop when
each trial began, so a per-trial timeout counts from the trial's own start; a
trial that overruns it is stopped (its worker with it) and the rest of its
chunk is handed back. A worker that cannot see the folder (another machine)
runs only the first trial of each chunk and hands the rest back, and the
executor then sends one trial per task, as without chunks.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from isoloop.data.bars import MarketData
from isoloop.sweep.executors.base import (
    TrialContext,
    TrialFn,
    execute_trial,
    memory_result,
    remove_stale_memmaps,
)
from isoloop.sweep.executors.loop import (
    Event,
    Finished,
    Requeued,
    Started,
    TaskFailed,
    WorkerDied,
)
from isoloop.sweep.spec import TrialResult, TrialSpec

__all__ = [
    "MAX_CHUNK",
    "ChunkBook",
    "ChunkTask",
    "Progress",
    "ProgressBoard",
    "Ticket",
    "chunk_size",
    "run_chunk",
]

#: The most trials one task carries: large enough that a task's fixed cost is
#: noise per trial, small enough that a chunk's results arrive often.
MAX_CHUNK = 64

#: A trial inside a chunk: (the task's key, the trial's index in the chunk).
Ticket: TypeAlias = tuple[str, int]

# running index, when it began (CLOCK_MONOTONIC, shared by every process of a host),
# trials of the chunk finished so far
_RECORD = struct.Struct("<qdq")


def chunk_size(known: int, exhausted: bool, workers: int, tasks_sent: int) -> int:
    """How many of the `known` waiting specs the next task takes.

    Doubles from 1 with each task sent (first results at once), at most `MAX_CHUNK`;
    while more specs may come, up to a worker's share of those waiting; once the
    search is exhausted, half a fair share, so the tail spreads out.
    """
    ramp = 1 << min(tasks_sent, 6)
    share = known // max(1, workers) if not exhausted else -(-known // (2 * max(1, workers)))
    return max(1, min(MAX_CHUNK, ramp, share, known))


@dataclass(frozen=True, slots=True)
class Progress:
    """A chunk's last progress record."""

    index: int  # the trial running, or the last one run
    started: float  # when it began (time.monotonic of the worker's host)
    finished: int  # trials of the chunk finished

    @property
    def running(self) -> int | None:
        """The index of the trial running now (None between trials)."""
        return self.index if self.finished == self.index else None


def _open_record(path: str | None) -> int | None:
    if path is None or not os.path.isdir(os.path.dirname(path)):
        return None  # the driver's folder is not on this machine
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError:  # the map ended meanwhile (its folder removed): run one trial
        return None


def run_chunk(
    fn: TrialFn,
    specs: Sequence[TrialSpec],
    data: MarketData,
    context: TrialContext,
    memory_mb: float | None,
    progress: str | None,
) -> tuple[list[TrialResult], int]:
    """Runs on a worker: the chunk's trials in order; returns their results and how
    many trials at the end were not run (handed back: no progress record here)."""
    fd = _open_record(progress)
    runnable = len(specs) if fd is not None else min(1, len(specs))
    results: list[TrialResult] = []
    try:
        for i, spec in enumerate(specs[:runnable]):
            began = time.monotonic()
            if fd is not None:
                os.pwrite(fd, _RECORD.pack(i, began, i), 0)
            results.append(execute_trial(fn, spec, data, context, memory_mb))
            if fd is not None:
                os.pwrite(fd, _RECORD.pack(i, began, i + 1), 0)
    finally:
        if fd is not None:
            os.close(fd)
    return results, len(specs) - runnable


class ProgressBoard:
    """The driver's folder of progress records, one file per task."""

    def __init__(self) -> None:
        shm = Path("/dev/shm")
        base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
        remove_stale_memmaps(Path(base or tempfile.gettempdir()))
        # Named like the memmap folders, so one left by a killed driver is removed too.
        prefix = f"isoloop-sweep-{os.getpid()}-progress-"
        self.directory = tempfile.mkdtemp(prefix=prefix, dir=base)

    def path(self, key: str) -> str:
        return os.path.join(self.directory, key)

    def read(self, key: str) -> Progress | None:
        try:
            with open(self.path(key), "rb") as f:
                raw = f.read(_RECORD.size)
        except OSError:
            return None  # the task's body has not begun
        if len(raw) < _RECORD.size:
            return None
        index, started, finished = _RECORD.unpack(raw)
        return Progress(int(index), float(started), int(finished))

    def forget(self, key: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.path(key))

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass(slots=True, eq=False)
class ChunkTask:
    """One submitted task and the trials it carries."""

    key: str
    ref: Any  # the backend's future / object-ref generator
    specs: tuple[TrialSpec, ...]
    worker: str
    # sent to a worker busy with another task: until it begins, a death is not its fault
    behind: bool = False
    reported: int = -1  # the highest index the loop was told has begun
    progress: Progress | None = None  # the last record read

    def tickets(self) -> list[Ticket]:
        return [(self.key, i) for i in range(len(self.specs))]


@dataclass(slots=True)
class ChunkBook:
    """The driver's view of the tasks in flight, turning each task's fate into
    per-trial events."""

    board: ProgressBoard
    tasks: dict[str, ChunkTask] = field(default_factory=dict)
    by_ref: dict[Any, ChunkTask] = field(default_factory=dict)
    # events decided outside a wait (a kill hands the rest of its chunk back)
    pending: list[Event[Ticket]] = field(default_factory=list)
    # (trial id, attempt) of first trials whose task died once before it began
    unstarted: set[tuple[int, int]] = field(default_factory=set)

    def add(
        self, key: str, ref: Any, specs: Sequence[TrialSpec], worker: str, *, behind: bool = False
    ) -> ChunkTask:
        task = ChunkTask(key, ref, tuple(specs), worker, behind)
        self.tasks[key] = task
        self.by_ref[ref] = task
        return task

    def task_of(self, ticket: Ticket) -> ChunkTask | None:
        return self.tasks.get(ticket[0])

    def drop(self, task: ChunkTask) -> None:
        self.tasks.pop(task.key, None)
        self.by_ref.pop(task.ref, None)
        self.board.forget(task.key)

    def take_pending(self) -> list[Event[Ticket]]:
        out, self.pending = self.pending, []
        return out

    # -- a task's fate, as per-trial events ---------------------------------------
    def finished(self, task: ChunkTask, results: Sequence[TrialResult]) -> list[Event[Ticket]]:
        """The task returned: a result per trial run; the trials after them, not run
        (the worker could not see the progress folder), are handed back."""
        self.drop(task)
        events: list[Event[Ticket]] = [
            Finished((task.key, i), result) for i, result in enumerate(results)
        ]
        events += [Requeued((task.key, i)) for i in range(len(results), len(task.specs))]
        return events

    def culprit(self, task: ChunkTask) -> int | None:
        """The trial running when the task's worker died (None: it died between trials)."""
        progress = self.board.read(task.key)
        if progress is None:
            # Died before its first trial began: most likely sent to a worker already
            # dying, so the first time nobody is blamed; a task that dies again before
            # its first trial begins is blamed on that trial (a poisoned start must
            # end in "crashed", not loop). A task waiting behind another is never blamed.
            first = (task.specs[0].trial_id, task.specs[0].attempt)
            if task.behind or first not in self.unstarted:
                self.unstarted.add(first)
                return None
            return 0
        return progress.running

    def died(self, task: ChunkTask, worker: str, reason: str) -> list[Event[Ticket]]:
        """The task's worker died: blame the trial it was running, hand back the rest."""
        blamed = self.culprit(task)
        self.drop(task)
        return [
            WorkerDied((task.key, i), worker, reason) if i == blamed else Requeued((task.key, i))
            for i in range(len(task.specs))
        ]

    def out_of_memory(
        self, task: ChunkTask, cause: str, memory_mb: float | None
    ) -> list[Event[Ticket]]:
        """A memory monitor killed the task: the trial running is "memory", the rest rerun."""
        blamed = self.culprit(task)
        self.drop(task)
        return [
            Finished((task.key, i), memory_result(spec, task.worker, cause, memory_mb, None))
            if i == blamed
            else Requeued((task.key, i))
            for i, spec in enumerate(task.specs)
        ]

    def failed(self, task: ChunkTask, worker: str, error: BaseException) -> list[Event[Ticket]]:
        """The engine could not run the task at all: every trial of it fails the same way."""
        self.drop(task)
        return [TaskFailed(ticket, worker, error) for ticket in task.tickets()]

    def killed(self, task: ChunkTask, index: int) -> None:
        """The loop stopped trial `index` (timeout) with its worker: the rest run again."""
        self.drop(task)
        self.pending += [Requeued((task.key, i)) for i in range(len(task.specs)) if i != index]

    # -- start times ----------------------------------------------------------------
    def began(self, task: ChunkTask, index: int, at: float | None = None) -> list[Event[Ticket]]:
        if index <= task.reported:
            return []
        task.reported = index
        return [Started((task.key, index), at)]

    def poll_starts(self) -> list[Event[Ticket]]:
        """A `Started` for each trial found running that the loop was not told of."""
        events: list[Event[Ticket]] = []
        for task in self.tasks.values():
            task.progress = progress = self.board.read(task.key)
            running = None if progress is None else progress.running
            if progress is not None and running is not None:
                events += self.began(task, running, progress.started)
        return events

    def clock_stopped(self, ticket: Ticket) -> bool:
        """Whether the trial is not on a worker's clock: queued behind an earlier trial
        of its chunk, or finished with its result travelling with the chunk. The first
        trial of a chunk not yet begun carries the chunk's clock (a worker must take it)."""
        task = self.tasks.get(ticket[0])
        if task is None:
            return True  # settled; its events are on their way
        index, progress = ticket[1], task.progress
        if progress is None:
            return index > 0
        return not (index == progress.index and progress.running is not None)
