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
    execute_trial,
    memory_result,
)
from isoloop.sweep.executors.loop import (
    Event,
    Finished,
    LoopExecutor,
    Started,
    TaskFailed,
    WorkerDied,
)
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


def _trial(
    fn: TrialFn,
    spec: TrialSpec,
    loaded: BarsTupleHandle,
    context: TrialContext,
    memory_mb: float | None,
    code: CodeBundle | None = None,
) -> Iterator[str | TrialResult]:
    yield _STARTED  # the arguments are unpickled (modules imported): the trial begins
    if code is not None:
        code.install()
    yield execute_trial(fn, spec, loaded.open(), context, memory_mb)


class RayExecutor(LoopExecutor[Any]):
    """Runs trials as Ray tasks; starts a local Ray when no address is given."""

    name = "ray"
    reports_start = True

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
        # running task (its ObjectRefGenerator) → its spec (for a memory record)
        self._specs: dict[Any, TrialSpec] = {}

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
        remote = ray.remote(_trial).options(max_retries=0, num_cpus=1, num_returns="streaming")
        context_ref = ray.put(context)  # sent once per map, not per trial
        bundle = CodeBundle.of(code_folders(context))
        code_ref = None if bundle is None else ray.put(bundle)
        self._job = (remote, fn, handle, context_ref, code_ref)

    def in_flight_cap(self, max_in_flight: int | None, timeout_s: float | None) -> int:
        cap = max(1, max_in_flight or 2 * self.workers)
        # A queued task's clock would start when it does, but a cancelled one may have
        # been queued behind it: with a timeout, only submit what starts right away.
        return cap if timeout_s is None else min(cap, self.workers)

    def submit(self, spec: TrialSpec) -> Any:
        assert self._job is not None
        remote, fn, handle, context_ref, code_ref = self._job
        ref = remote.remote(fn, spec, handle, context_ref, self.trial_memory_mb, code_ref)
        self._specs[ref] = spec
        return ref

    def wait_any(self, tickets: Sequence[Any], timeout_s: float | None) -> list[Event[Any]]:
        timeout = None if timeout_s is None else max(0.01, timeout_s)
        ready, _ = ray.wait(list(tickets), num_returns=1, timeout=timeout)
        return [self._event(ref) for ref in ready]

    def _event(self, task: Any) -> Event[Any]:
        spec = self._specs[task]
        try:
            value: str | TrialResult = ray.get(next(task))
        except StopIteration:  # a generator that ended without a result: cannot happen
            value = "no result"
        except _DEATHS as exc:
            del self._specs[task]
            return WorkerDied(task, "ray", f"worker died ({type(exc).__name__})")
        except ray.exceptions.OutOfMemoryError as exc:
            del self._specs[task]
            cause = f"{type(exc).__name__}: killed by Ray's memory monitor"
            return Finished(task, memory_result(spec, "ray", cause, self.trial_memory_mb, None))
        except ray.exceptions.RayError as exc:
            del self._specs[task]
            return TaskFailed(task, "ray", exc)
        if value == _STARTED:
            return Started(task)
        del self._specs[task]
        if isinstance(value, str):
            return TaskFailed(task, "ray", RuntimeError(f"ray task ended with {value!r}"))
        return Finished(task, value)

    def worker_of(self, ticket: Any) -> str:
        return "ray"

    def kill(self, ticket: Any) -> str:
        self._specs.pop(ticket, None)
        ray.cancel(ticket, force=True)
        return "task cancelled with force=True (worker killed)"

    def cancel(self, ticket: Any) -> None:
        self._specs.pop(ticket, None)
        ray.cancel(ticket, force=True)

    def finish(self) -> None:
        self._job = None
        self._specs = {}

    def close(self) -> None:
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
        self._owns_ray = False
