"""`dask`: trials as tasks on a distributed cluster (local or at `address`).

Data is loaded by a task (`client.submit(load, handle)`), never scattered:
task-produced data is part of the graph's lineage, so when the worker holding
it dies the scheduler recomputes it, whereas scattered data is lost for good
(research/distributed-anchors.md §1). Each worker process keeps one copy.

Faults: every trial is pinned to one worker slot (a worker thread the
executor chose: `workers=[address]`, no stealing), exactly as the process
executor gives each trial a worker, so when a worker process dies the executor
knows which trial it ran. That trial alone is resubmitted (attempt + 1) up to
`retries` times, then recorded "crashed"; trials on other workers run on, and
none is marked final by someone else's crash. (Left to Dask, the scheduler
reschedules whatever was assigned to the dead worker, counts the death against
each of them, and under a timeout the waits turn healthy trials into
"timeout".) A death is seen when the worker leaves the scheduler (the nanny
starts a fresh one, in a new working directory and usually at a new address) or when Dask
reports `KilledWorker`. A local cluster is kept at its size: distributed may
close a nanny whose worker restarts slowly or dies again while restarting, and
the executor starts a fresh one (`_heal`); with no live worker for
`NO_WORKER_S`, the sweep stops with an error instead of waiting forever.
A hung trial cannot be cancelled inside a Dask worker thread, so on timeout the
future is cancelled and that worker process exits at once (its nanny restarts
it). With a timeout, submissions go to idle slots only, and a trial's clock
starts when its progress record (below) says its body began, so a fresh
worker's start-up and imports are not its time; one that no worker has begun
`START_GRACE_S` past its timeout is "timeout" too. With
`trial_memory_mb`, each worker must run one thread (the limit is per process).
The context travels with each task (it is small); the bars never do.

Chunks: a task carries several trials (`chunks.py`): a Dask task costs
milliseconds, so one per trial would cost more than a short trial. A worker
writes a progress record before and after each trial, which tells the driver
which trial a dead worker was running (only that one is blamed; the chunk's
others run again) and when each trial began (its timeout counts from then).

User code: when the trial context names a folder of user code (the backtest
sweep's strategy module next to its config), its Python files are registered
with the scheduler as a worker plugin (`CodePlugin`): every worker, including
ones that join or restart later, on any machine, writes them into its local
directory and appends that to `sys.path` (distributed's `upload_file` would
import every module at once and put them first on `sys.path`). The plugin is
unregistered when the executor closes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Sequence
from typing import Any

import distributed
from isoloop.data.bars import MarketData
from isoloop.sweep.executors.base import (
    BarsTupleHandle,
    CodeBundle,
    DataHandle,
    ExecutorError,
    MemmapHandle,
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
from isoloop.sweep.executors.dask_roster import WorkerRoster
from isoloop.sweep.executors.loop import Event, LoopExecutor
from isoloop.sweep.spec import TrialResult, TrialSpec

__all__ = ["CodePlugin", "DaskExecutor", "Displaced"]

# distributed's annotations are partial (untyped Client/LocalCluster/wait): use it as
# a dynamic API here rather than sprinkling ignores.
dd: Any = distributed
Future = Any

_POLL_S = 0.5  # how often a wait checks the scheduler for workers that died
_GATHER_S = 60.0  # a finished trial's result that cannot be fetched: its worker died


def _load(handle: DataHandle) -> BarsTupleHandle:
    """Runs on a worker: open the source once; dependents receive the loaded bars."""
    return BarsTupleHandle.of(handle.open())


def _chunk(
    fn: TrialFn,
    specs: tuple[TrialSpec, ...],
    loaded: BarsTupleHandle,
    context: TrialContext,
    memory_mb: float | None,
    progress: str | None,
    workdir: str | None,
) -> tuple[list[TrialResult], int]:
    if workdir is not None and dd.get_worker().local_directory != workdir:
        # The worker it was sent to died and another process took its address (a fixed
        # --worker-port): Dask reschedules the task there; the driver resends it itself.
        raise Displaced(workdir)
    return run_chunk(fn, specs, loaded.open(), context, memory_mb, progress)


class Displaced(Exception):
    """A task reached another worker process than the one it was sent to."""


async def _hard_exit() -> None:
    # run on the worker's event loop (free even while its only thread is stuck)
    os._exit(1)


class CodePlugin(distributed.WorkerPlugin):
    """Puts a user's code (a `CodeBundle`) on every worker's `sys.path`, joiners included."""

    def __init__(self, bundle: CodeBundle) -> None:
        self.bundle = bundle
        self.name = f"isoloop-code-{bundle.digest[:20]}"

    def setup(self, worker: Any) -> None:
        self.bundle.install(worker.local_directory)


class DaskExecutor(LoopExecutor[Ticket]):
    """Runs trials on a Dask cluster; starts a local one when no address is given."""

    name = "dask"
    reports_start = True
    batches = True

    def __init__(
        self,
        workers: int = 2,
        *,
        address: str | None = None,
        trial_memory_mb: float | None = None,
    ) -> None:
        self.workers = workers
        self.address = address
        self.trial_memory_mb = trial_memory_mb
        self._cluster: Any = None
        self._client: Any = None
        self._handles: list[MemmapHandle] = []
        self._job: tuple[TrialFn, Future, TrialContext] | None = None
        self._roster = WorkerRoster()  # live workers, and dead ones by process
        self._on: dict[Future, str] = {}  # running task → the worker it is pinned to
        self._sent_to: dict[Future, str] = {}  # running task → its worker's working dir
        self._book: ChunkBook | None = None  # the map's tasks in flight
        self._sent = 0  # tasks sent in this map (chunks grow with it)
        self._single = False  # a worker could not see the progress folder: no chunks
        self._timeout_s: float | None = None
        self._plugins: set[str] = set()  # code plugins this executor registered

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
                    self.workers = max(1, len(self._workers()))
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

    # -- the loop's operations ------------------------------------------------
    def start(self, fn: TrialFn, handle: Future, context: TrialContext) -> None:
        self._ship_code(context)
        self._job = (fn, handle, context)
        self._book = ChunkBook(ProgressBoard())
        self._sent = 0
        self._refresh()
        if self.trial_memory_mb is not None:
            threads = self._roster.threads
            shared = sorted(addr for addr, n in threads.items() if n > 1)
            if shared:
                raise ExecutorError(
                    f"dask executor: executor.trial_memory_mb limits a worker process, but "
                    f"{shared[0]} runs {threads[shared[0]]} threads; start the workers "
                    "with --nthreads 1 or remove trial_memory_mb"
                )

    def _ship_code(self, context: TrialContext) -> None:
        bundle = CodeBundle.of(code_folders(context))
        if bundle is None:
            return
        plugin = CodePlugin(bundle)
        if plugin.name in self._plugins:
            return
        try:
            self.client.register_plugin(plugin, name=plugin.name)
        except Exception as exc:
            raise ExecutorError(
                f"dask executor: cannot ship the user code in {', '.join(code_folders(context))} "
                f"to the workers ({type(exc).__name__}: {exc})"
            ) from None
        self._plugins.add(plugin.name)

    def _refresh(self) -> None:
        """The live workers, as the scheduler sees them (a dead one has left)."""
        self._roster.update(self._workers())
        self._heal()

    def _workers(self) -> dict[str, Any]:
        """Every worker the scheduler knows, asked directly. `client.scheduler_info()`
        returns a cache that the client's own 2 s timer overwrites with a summary
        without workers, and the timer can run between the fetch and the return: an
        empty answer read as "every worker died" blamed a healthy trial (seen in CI)."""
        info = self.client.sync(self.client.scheduler.identity, n_workers=-1)
        return dict(info.get("workers", {}))

    def _heal(self) -> None:
        """Bring a local cluster back to its size.

        distributed's SpecCluster closes a worker's nanny for good when, 15 s after the
        worker left (`lost-worker-timeout`), no worker of that name is registered: it
        looks once, so a worker that died again while restarting (a crashing trial
        retried on it), or one slow to start on a loaded machine, is lost with its
        nanny. Without this, a sweep of crashing trials could end with no worker at
        all and wait forever (seen in CI). `scale` to the same size starts what is
        missing and touches nothing else.
        """
        cluster = self._cluster
        if cluster is not None and len(cluster.workers) < len(cluster.worker_spec):
            cluster.scale(len(cluster.worker_spec))

    def in_flight_cap(self, max_in_flight: int | None, timeout_s: float | None) -> int:
        # Each task needs an idle worker thread (`ready`); the cap bounds the trials
        # held (sent or looked ahead), by default two full chunks per worker.
        self._timeout_s = timeout_s
        return max(1, max_in_flight or 2 * self.workers * MAX_CHUNK)

    def chunk_size(self, known: int, exhausted: bool) -> int:
        if self._single:
            return 1
        return chunk_size(known, exhausted, max(1, len(self._roster.threads)), self._sent)

    def _idle(self) -> str | None:
        busy: dict[str, int] = {}
        for addr in self._on.values():
            busy[addr] = busy.get(addr, 0) + 1
        # Without a timeout, a second task waits at each worker thread, so the worker
        # never idles while a finished chunk travels back (its death blames no trial
        # of the waiting task: it had not begun). With one, a task starts when sent.
        depth = 1 if self._timeout_s is not None else 2
        threads = self._roster.threads
        free = [a for a, n in threads.items() if busy.get(a, 0) < n * depth]
        return min(free, key=lambda a: busy.get(a, 0) / threads[a]) if free else None

    def ready(self) -> bool:
        return self._idle() is not None

    def submit(self, spec: TrialSpec) -> Ticket:
        return self.submit_chunk([spec])[0]

    def submit_chunk(self, specs: Sequence[TrialSpec]) -> list[Ticket]:
        assert self._job is not None and self._book is not None
        fn, handle, context = self._job
        addr = self._idle()
        assert addr is not None
        first = specs[0]
        key = f"isoloop-trials-{first.trial_id}-{first.attempt}-{len(specs)}-{uuid.uuid4().hex[:8]}"
        future = self.client.submit(
            _chunk,
            fn,
            tuple(specs),
            handle,
            context,
            self.trial_memory_mb,
            self._book.board.path(key),
            self._roster.guard(addr),
            key=key,
            pure=False,
            workers=[addr],
            allow_other_workers=False,
        )
        behind = addr in self._on.values()  # queued behind another task of that worker
        self._on[future] = addr
        self._sent_to[future] = self._roster.workdir(addr)
        self._sent += 1
        task = self._book.add(key, future, specs, addr, behind=behind)
        if self._single:
            # No progress record reaches the driver (workers elsewhere): the trial's
            # clock starts now, at an idle worker thread, as it always did.
            self._book.pending += self._book.began(task, 0)
        # Otherwise each trial's clock starts when its progress record says it began,
        # so a fresh worker's start-up and imports (after a crash) are not its time.
        return task.tickets()

    def wait_any(self, tickets: Sequence[Ticket], timeout_s: float | None) -> list[Event[Ticket]]:
        book = self._book
        assert book is not None
        # At most _POLL_S: deaths, and starts of trials inside chunks, are looked for.
        poll = _POLL_S if timeout_s is None else max(0.01, min(timeout_s, _POLL_S))
        events = book.take_pending()
        if events:
            return events
        futures = [task.ref for task in book.tasks.values()]
        if not futures:  # every worker is restarting: wait for one to come back
            time.sleep(poll)
            self._refresh()
            self._roster.check("the local cluster" if self.address is None else self.address)
            return []
        try:
            done = set(dd.wait(futures, timeout=poll, return_when="FIRST_COMPLETED").done)
        except TimeoutError:
            done = set()
        if self._timeout_s is not None:
            events += book.poll_starts()
        for future in done:
            events += self._event(book.by_ref[future])
        if not done or time.monotonic() - self._roster.refreshed >= _POLL_S:
            self._refresh()  # (an RPC: not after every chunk that returns)
        for future in futures:
            addr = self._on.get(future)
            workdir = self._sent_to.get(future)
            if (
                future not in done
                and addr is not None
                and not self._roster.is_current(addr, workdir)
            ):
                # (a task sent to it since is handed back, see culprit)
                self._roster.forget(addr, workdir)
                events += book.died(book.by_ref[future], addr, f"worker {addr} died")
                self._drop(future)
        return events

    def _event(self, task: ChunkTask) -> list[Event[Ticket]]:
        assert self._book is not None
        future, addr = task.ref, self._on.get(task.ref, "dask")
        try:
            results, unrun = future.result(timeout=_GATHER_S)
        except (dd.KilledWorker, TimeoutError, Displaced) as exc:
            self._roster.forget(addr, self._sent_to.get(future))
            return self._book.died(task, addr, f"worker {addr} died ({type(exc).__name__})")
        except Exception as exc:  # the task itself could not run (e.g. unpicklable fn)
            return self._book.failed(task, addr, exc)
        finally:
            self._drop(future)
        if unrun:
            self._single = True  # the worker cannot see the progress folder
        return self._book.finished(task, results)

    def _drop(self, future: Future) -> None:
        self._on.pop(future, None)
        self._sent_to.pop(future, None)
        future.cancel()  # the scheduler may forget it (a no-op once its result is read)

    def worker_of(self, ticket: Ticket) -> str:
        task = None if self._book is None else self._book.task_of(ticket)
        return "dask" if task is None else self._on.get(task.ref, task.worker)

    def clock_stopped(self, ticket: Ticket) -> bool:
        return self._book is None or self._book.clock_stopped(ticket)

    def kill(self, ticket: Ticket) -> str:
        task = None if self._book is None else self._book.task_of(ticket)
        if task is None:
            return "its task had already ended"
        assert self._book is not None
        addr, workdir = self._on.get(task.ref), self._sent_to.get(task.ref)
        self._drop(task.ref)
        self._book.killed(task, ticket[1])
        if addr is not None and self._roster.is_current(addr, workdir):
            # A graceful restart waits for the busy thread (measured: ~60 s); exiting the
            # worker process at once frees the core and its nanny starts a fresh one.
            self._roster.forget(addr, workdir)
            with contextlib.suppress(Exception):
                self.client.run(_hard_exit, workers=[addr], wait=False)
        return "future cancelled and its worker restarted"

    def cancel(self, ticket: Ticket) -> None:
        task = None if self._book is None else self._book.task_of(ticket)
        if task is not None and self._book is not None:
            self._drop(task.ref)
            self._book.drop(task)

    def finish(self) -> None:
        self._job = None
        for future in list(self._on):
            self._drop(future)
        if self._book is not None:
            self._book.board.remove()
            self._book = None

    def close(self) -> None:
        if self._client is not None:
            for name in sorted(self._plugins):
                with contextlib.suppress(Exception):
                    self._client.unregister_worker_plugin(name)
            self._plugins = set()
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        for memmap in self._handles:
            memmap.remove()
        self._handles = []
