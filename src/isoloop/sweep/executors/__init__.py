"""Executors that run sweep trials: serial, thread, process, dask, ray.

One protocol (`base.Executor`) and one scheduling loop (`loop.LoopExecutor`); each
backend supplies only its operations (start, submit, wait for any, kill, cancel).
"""

from __future__ import annotations

from isoloop.errors import ConfigError
from isoloop.sweep.executors.base import (
    BarsTupleHandle,
    DataHandle,
    Executor,
    ExecutorError,
    InMemoryHandle,
    MemmapHandle,
    TrialFn,
    execute_trial,
)
from isoloop.sweep.executors.local import SerialExecutor, ThreadExecutor
from isoloop.sweep.executors.process import ProcessExecutor

__all__ = [
    "EXECUTOR_KINDS",
    "BarsTupleHandle",
    "DataHandle",
    "Executor",
    "ExecutorError",
    "InMemoryHandle",
    "MemmapHandle",
    "ProcessExecutor",
    "SerialExecutor",
    "ThreadExecutor",
    "TrialFn",
    "execute_trial",
    "make_executor",
]

EXECUTOR_KINDS = ("serial", "thread", "process", "dask", "ray")


def make_executor(
    kind: str,
    *,
    workers: int = 2,
    address: str | None = None,
    memory_limit_mb: float | None = None,
    recycle_after: int | None = None,
    trial_memory_mb: float | None = None,
) -> Executor:
    """An executor by name; dask and ray are imported only when asked for (optional extras).

    `trial_memory_mb` bounds each trial while it runs (process, dask, ray): the limit
    is per process, so the in-driver executors, whose trials share the driver, refuse it.
    """
    if trial_memory_mb is not None and kind in ("serial", "thread"):
        raise ConfigError(
            f"executor.trial_memory_mb needs trials in their own processes; {kind!r} runs "
            "them in the driver: use executor.kind process, dask or ray, or remove it"
        )
    if kind == "serial":
        return SerialExecutor()
    if kind == "thread":
        return ThreadExecutor(workers)
    if kind == "process":
        return ProcessExecutor(
            workers,
            memory_limit_mb=memory_limit_mb,
            recycle_after=recycle_after,
            trial_memory_mb=trial_memory_mb,
        )
    if kind == "dask":
        try:
            from isoloop.sweep.executors.dask import DaskExecutor
        except ImportError as exc:
            raise ConfigError(
                f"executor.kind 'dask' needs dask[distributed] ({exc}); "
                "install isoloop[dask] or pick another executor"
            ) from None
        return DaskExecutor(workers, address=address, trial_memory_mb=trial_memory_mb)
    if kind == "ray":
        try:
            from isoloop.sweep.executors.ray import RayExecutor
        except ImportError as exc:
            raise ConfigError(
                f"executor.kind 'ray' needs ray ({exc}); install isoloop[ray] or pick "
                "another executor"
            ) from None
        return RayExecutor(workers, address=address, trial_memory_mb=trial_memory_mb)
    raise ConfigError(f"executor.kind {kind!r} is unknown; use one of {', '.join(EXECUTOR_KINDS)}")
