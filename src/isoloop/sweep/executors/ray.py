"""`ray`: trials as Ray tasks, locally (`ray.init(num_cpus=workers)`) or on a cluster.

The bars are `ray.put` once and passed to every task as an ObjectRef argument:
Ray resolves it from the node's shared-memory object store, zero-copy and
read-only (one copy per node, research/distributed-anchors.md §1).

Faults: tasks run with `max_retries=0` and the executor resubmits a trial whose
worker died (`WorkerCrashedError`) itself, so `attempts` is exact. A trial past
`timeout_s` is stopped with `ray.cancel(force=True)`, which kills its worker
process. The timeout clock starts at submission; with a timeout set, at most
`workers` trials are in flight so a submitted trial starts right away.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import ray

from isoloop.data.bars import MarketData
from isoloop.sweep.executors.base import (
    BarsTupleHandle,
    ClosingExecutor,
    ExecutorError,
    TrialFn,
    crashed_result,
    error_result,
    execute_trial,
    timeout_result,
)
from isoloop.sweep.spec import TrialResult, TrialSpec

__all__ = ["RayExecutor"]


def _trial(
    fn: TrialFn, spec: TrialSpec, loaded: BarsTupleHandle, context: Mapping[str, Any]
) -> TrialResult:
    return execute_trial(fn, spec, loaded.open(), context)


class RayExecutor(ClosingExecutor):
    """Runs trials as Ray tasks; starts a local Ray when no address is given."""

    name = "ray"

    def __init__(
        self,
        workers: int = 2,
        *,
        address: str | None = None,
        init_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.workers = workers
        self.address = address
        self.init_kwargs = dict(init_kwargs or {})
        self._owns_ray = False

    def _ensure(self) -> None:
        if ray.is_initialized():
            return
        try:
            if self.address is None:
                ray.init(num_cpus=self.workers, include_dashboard=False, **self.init_kwargs)
            else:
                ray.init(address=self.address, **self.init_kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ExecutorError(
                f"ray executor: cannot start or reach Ray at {self.address!r} ({exc}); "
                "check executor.address or omit it to start Ray locally"
            ) from None
        self._owns_ray = True

    def share(self, data: MarketData) -> Any:
        self._ensure()
        return ray.put(BarsTupleHandle.of(data))

    def map(
        self,
        fn: TrialFn,
        specs: Iterator[TrialSpec],
        handle: Any,
        *,
        context: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        retries: int = 2,
        max_in_flight: int | None = None,
    ) -> Iterator[TrialResult]:
        self._ensure()
        remote = ray.remote(_trial).options(max_retries=0, num_cpus=1)
        ctx_ref: Any = ray.put(dict(context or {}))  # sent once per map, not per trial
        cap = max(1, max_in_flight or 2 * self.workers)
        if timeout_s is not None:
            cap = min(cap, self.workers)
        running: dict[Any, tuple[TrialSpec, float, float]] = {}
        retry: list[TrialSpec] = []
        spec_iter = iter(specs)
        exhausted = False
        try:
            while True:
                while len(running) < cap and (retry or not exhausted):
                    spec = retry.pop(0) if retry else next(spec_iter, None)
                    if spec is None:
                        exhausted = True
                        break
                    ref = remote.remote(fn, spec, handle, ctx_ref)
                    running[ref] = (spec, time.monotonic(), time.time())
                if not running:
                    return
                wait_s = None
                if timeout_s is not None:
                    oldest = min(started for _, started, _ in running.values())
                    wait_s = max(0.01, oldest + timeout_s - time.monotonic())
                ready, _ = ray.wait(list(running), num_returns=1, timeout=wait_s)
                for ref in ready:
                    spec, _, started_wall = running.pop(ref)
                    yield from self._collect(ref, spec, started_wall, retries, retry)
                if timeout_s is not None:
                    now = time.monotonic()
                    for ref, (spec, started, started_wall) in list(running.items()):
                        if now - started >= timeout_s:
                            running.pop(ref)
                            ray.cancel(ref, force=True)
                            yield timeout_result(
                                spec,
                                "ray",
                                timeout_s,
                                started_wall,
                                "task cancelled with force=True (worker killed)",
                            )
        finally:
            for ref in running:
                ray.cancel(ref, force=True)

    def _collect(
        self, ref: Any, spec: TrialSpec, started_wall: float, retries: int, retry: list[TrialSpec]
    ) -> Iterator[TrialResult]:
        try:
            result: TrialResult = ray.get(ref)
            yield result
        except ray.exceptions.WorkerCrashedError as exc:
            if spec.attempt < retries:
                retry.append(spec.retry())
            else:
                yield crashed_result(
                    spec, "ray", f"worker died ({type(exc).__name__})", started_wall
                )
        except ray.exceptions.RayError as exc:
            yield error_result(spec, "ray", exc, started_wall)

    def close(self) -> None:
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
        self._owns_ray = False
