"""`ray`: trials as Ray tasks, locally (`ray.init(num_cpus=workers)`) or on a cluster.

The bars are `ray.put` once and passed to every task as an ObjectRef argument:
Ray resolves it from the node's shared-memory object store, zero-copy and
read-only (one copy per node, research/distributed-anchors.md §1).

Faults: tasks run with `max_retries=0` and the executor resubmits a trial whose
worker died (`WorkerCrashedError`) itself, so `attempts` is exact. A trial past
`timeout_s` is stopped with `ray.cancel(force=True)`, which kills its worker
process. Each task is a streaming generator that first yields a start marker
as its body begins, so the timeout counts from then (`Started`): a fresh
worker process starting up and importing the trial's modules — seconds on a
busy machine, after a crash took its predecessor — is not the trial's time
(a task no worker has begun `START_GRACE_S` past its timeout is "timeout" too).
With a timeout set, at most `workers` trials are in flight. A Ray
worker runs one task at a time, so a worker's death is blamed on its trial
alone; trials queued elsewhere are untouched. `trial_memory_mb` is enforced in
the task (`memory.py`); a task Ray's own memory monitor kills is "memory" too.

Chunks: a task carries several trials (`chunks.py`), so Ray's per-task cost
is shared by them. A worker writes a progress record before and after each
trial, which tells the driver which trial a dead (or memory-killed) worker
was running — only that one is blamed, the chunk's others run again — and
when each trial began (its timeout counts from then). With a timeout, at most
`workers` tasks are in flight, without one twice that (the next chunk waits
at the worker).

User code: when the trial context names a folder of user code (the backtest
sweep's strategy module next to its config), its Python files are `ray.put`
once per map as a `CodeBundle` and every task installs it (once per worker
process: written to a private folder, appended to `sys.path`) before the
trial runs, so workers on any node import the user's module. (Ray's
`runtime_env={"py_modules": …}` takes local paths only at `ray.init`, which
runs before the executor sees the sweep, and not at all when the caller has
started Ray already; task-level runtime envs refuse local paths.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import ray

from isoloop.data.bars import MarketData
from isoloop.sweep.executors.base import (
    BarsTupleHandle,
    CodeBundle,
    ExecutorError,
    TrialContext,
    TrialFn,
    code_folders,
)
from isoloop.sweep.executors.chunks import (
    MAX_CHUNK,
    ChunkBook,
    ChunkTask,
    ProgressBoard,
    Ticket,
    chunk_size,
    run_chunk,
)
from isoloop.sweep.executors.loop import Event, LoopExecutor
from isoloop.sweep.spec import TrialResult, TrialSpec

__all__ = ["RayExecutor"]


#: The process running the task (or its node) died under it: the trial is retried.
_DEATHS = (
    ray.exceptions.WorkerCrashedError,
    ray.exceptions.NodeDiedError,
    ray.exceptions.LocalRayletDiedError,
)

#: A local Ray whose node misses its start-up window is started again this often.
_LOCAL_START_ATTEMPTS = 3

#: What a task yields first, as its body begins (a trial result is never a str).
_STARTED = "started"

#: How often a wait looks at the progress records when trials have a timeout.
_POLL_S = 0.5


def _chunk(
    fn: TrialFn,
    specs: tuple[TrialSpec, ...],
    loaded: BarsTupleHandle,
    context: TrialContext,
    memory_mb: float | None,
    code: CodeBundle | None,
    progress: str | None,
) -> Iterator[str | tuple[list[TrialResult], int]]:
    yield _STARTED  # the arguments are unpickled (modules imported): the trial begins
    if code is not None:
        code.install()
    yield run_chunk(fn, specs, loaded.open(), context, memory_mb, progress)


class RayExecutor(LoopExecutor[Ticket]):
    """Runs trials as Ray tasks; starts a local Ray when no address is given."""

    name = "ray"
    reports_start = True
    batches = True

    def __init__(
        self,
        workers: int = 2,
        *,
        address: str | None = None,
        init_kwargs: Mapping[str, Any] | None = None,
        trial_memory_mb: float | None = None,
    ) -> None:
        self.workers = workers
        self.trial_memory_mb = trial_memory_mb
        self.address = address
        self.init_kwargs = dict(init_kwargs or {})
        self._owns_ray = False
        self._job: tuple[Any, TrialFn, Any, Any, Any] | None = None
        self._book: ChunkBook | None = None  # the map's tasks in flight
        self._sent = 0  # tasks sent in this map (chunks grow with it)
        self._single = False  # a worker could not see the progress folder: no chunks
        self._timeout_s: float | None = None

    def _ensure(self) -> None:
        if ray.is_initialized():
            return
        for attempt in range(1, _LOCAL_START_ATTEMPTS + 1):
            try:
                if self.address is None:
                    ray.init(num_cpus=self.workers, include_dashboard=False, **self.init_kwargs)
                else:
                    ray.init(address=self.address, **self.init_kwargs)
                break
            except Exception as exc:  # ray.init raises a bare Exception on start-up timeouts
                ray.shutdown()  # stop what a half-started local node left running
                # Ray gives its raylet a fixed 30 s to register; a busy machine can miss
                # that once and make it on a second try. A given address fails at once.
                again = self.address is None and "timed out during startup" in str(exc)
                if again and attempt < _LOCAL_START_ATTEMPTS:
                    continue
                raise ExecutorError(
                    f"ray executor: cannot start or reach Ray at {self.address!r} "
                    f"({' '.join(str(exc).split())}); check executor.address or omit it "
                    "to start Ray locally"
                ) from None
        self._owns_ray = True

    def share(self, data: MarketData) -> Any:
        self._ensure()
        return ray.put(BarsTupleHandle.of(data))

    # -- the loop's operations ------------------------------------------------
    def start(self, fn: TrialFn, handle: Any, context: TrialContext) -> None:
        self._ensure()
        remote = ray.remote(_chunk).options(max_retries=0, num_cpus=1, num_returns="streaming")
        context_ref = ray.put(context)  # sent once per map, not per trial
        bundle = CodeBundle.of(code_folders(context))
        code_ref = None if bundle is None else ray.put(bundle)
        self._job = (remote, fn, handle, context_ref, code_ref)
        self._book = ChunkBook(ProgressBoard())
        self._sent = 0

    def in_flight_cap(self, max_in_flight: int | None, timeout_s: float | None) -> int:
        # The cap bounds the trials held (sent or looked ahead); `ready` bounds the tasks.
        self._timeout_s = timeout_s
        return max(1, max_in_flight or 2 * self.workers * MAX_CHUNK)

    def ready(self) -> bool:
        # A queued task's clock would start when it does, but a cancelled one may have
        # been queued behind it: with a timeout, only submit what starts right away.
        tasks = self.workers if self._timeout_s is not None else 2 * self.workers
        return self._book is None or len(self._book.tasks) < tasks

    def chunk_size(self, known: int, exhausted: bool) -> int:
        return 1 if self._single else chunk_size(known, exhausted, self.workers, self._sent)

    def submit(self, spec: TrialSpec) -> Ticket:
        return self.submit_chunk([spec])[0]

    def submit_chunk(self, specs: Sequence[TrialSpec]) -> list[Ticket]:
        assert self._job is not None and self._book is not None
        remote, fn, handle, context_ref, code_ref = self._job
        first = specs[0]
        key = f"isoloop-trials-{first.trial_id}-{first.attempt}-{len(specs)}-{uuid.uuid4().hex[:8]}"
        progress = self._book.board.path(key)
        ref = remote.remote(
            fn, tuple(specs), handle, context_ref, self.trial_memory_mb, code_ref, progress
        )
        self._sent += 1
        return self._book.add(key, ref, specs, "ray").tickets()

    def wait_any(self, tickets: Sequence[Ticket], timeout_s: float | None) -> list[Event[Ticket]]:
        book = self._book
        assert book is not None
        events = book.take_pending()
        if events:
            return events
        timeout = None if timeout_s is None else max(0.01, timeout_s)
        if self._timeout_s is not None:  # trials inside chunks begin unannounced: look often
            timeout = _POLL_S if timeout is None else min(timeout, _POLL_S)
        refs = [task.ref for task in book.tasks.values()]
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout) if refs else ([], [])
        if self._timeout_s is not None:
            events += book.poll_starts()
        for ref in ready:
            events += self._event(book.by_ref[ref])
        return events

    def _event(self, task: ChunkTask) -> list[Event[Ticket]]:
        assert self._book is not None
        book = self._book
        try:
            value: str | tuple[list[TrialResult], int] = ray.get(next(task.ref))
        except StopIteration:  # a generator that ended without a result: cannot happen
            value = "no result"
        except _DEATHS as exc:
            return book.died(task, "ray", f"worker died ({type(exc).__name__})")
        except ray.exceptions.OutOfMemoryError as exc:
            cause = f"{type(exc).__name__}: killed by Ray's memory monitor"
            return book.out_of_memory(task, cause, self.trial_memory_mb)
        except ray.exceptions.RayError as exc:
            return book.failed(task, "ray", exc)
        if value == _STARTED:
            return book.began(task, 0)
        if isinstance(value, str):
            return book.failed(task, "ray", RuntimeError(f"ray task ended with {value!r}"))
        results, unrun = value
        if unrun:
            self._single = True  # the worker cannot see the progress folder
        return book.finished(task, results)

    def worker_of(self, ticket: Ticket) -> str:
        return "ray"

    def clock_stopped(self, ticket: Ticket) -> bool:
        return self._book is None or self._book.clock_stopped(ticket)

    def kill(self, ticket: Ticket) -> str:
        task = None if self._book is None else self._book.task_of(ticket)
        if task is not None and self._book is not None:
            self._book.killed(task, ticket[1])
            ray.cancel(task.ref, force=True)
        return "task cancelled with force=True (worker killed)"

    def cancel(self, ticket: Ticket) -> None:
        task = None if self._book is None else self._book.task_of(ticket)
        if task is not None and self._book is not None:
            self._book.drop(task)
            ray.cancel(task.ref, force=True)

    def finish(self) -> None:
        self._job = None
        if self._book is not None:
            self._book.board.remove()
            self._book = None

    def close(self) -> None:
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
        self._owns_ray = False
