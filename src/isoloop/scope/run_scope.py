"""One run's container and the lifecycle that owns it.

The container is a `DynamicContainer` checked out of the coordinator's pool of
provider graphs (see `graph.py`): each slot is built once per run and exposed
as that run's single instance. A graph serves one live scope at a time and is
cleared before reuse, so nothing of one run is reachable from another (no
override registrations, no class-level providers that would keep runs alive).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import MappingProxyType, TracebackType
from typing import Any

import numpy as np
from dependency_injector import containers

from isoloop.errors import BlueprintError, ScopeError
from isoloop.logging import LogSink, RunLogger, make_run_logger
from isoloop.scope.blueprint import Blueprint
from isoloop.scope.graph import GraphPool, ProviderGraph
from isoloop.scope.lifecycle import Health, ScopeState, check_transition
from isoloop.scope.shared import SharedServices
from isoloop.scope.teardown import StopOutcome, TeardownRunner

__all__ = ["RunScope"]

_HEALTH_RANK = MappingProxyType({"healthy": 0, "degraded": 1, "unhealthy": 2})


class RunScope:
    """A run's private components, created, started, stopped and disposed in order."""

    def __init__(
        self,
        blueprint: Blueprint,
        shared: SharedServices,
        *,
        config: object,
        run_id: str,
        container_id: str,
        seed_sequence: np.random.SeedSequence,
        sink: LogSink,
        own_sink: bool,
        teardown: TeardownRunner,
        pool: GraphPool,
        stop_timeout: float,
    ) -> None:
        self.blueprint = blueprint
        self.run_id = run_id
        self.container_id = container_id
        self.state = ScopeState.CREATED
        self.log: RunLogger = make_run_logger(
            sink, run_id=run_id, container_id=container_id, blueprint=blueprint.name
        )
        self.teardown_errors: tuple[BaseException, ...] = ()
        self._shared: SharedServices | None = shared
        self._config = config
        self._seed_sequence: np.random.SeedSequence | None = seed_sequence
        self._sink: LogSink | None = sink
        self._own_sink = own_sink
        self._teardown = teardown
        self._stop_timeout = stop_timeout
        self._pool = pool
        self._graph: tuple[Any, ProviderGraph] | None = None
        self._components: dict[str, Any] = {}
        self._order: tuple[str, ...] = ()
        self._started: list[str] = []

    # -- states -------------------------------------------------------------
    def _move(self, target: ScopeState) -> None:
        if not check_transition(self.state, target):
            raise ScopeError(
                f"run {self.run_id}: cannot go from {self.state.value} to {target.value}"
            )
        self.state = target

    @property
    def init_order(self) -> tuple[str, ...]:
        """Slots in the order they were initialized (dependencies first)."""
        return self._order

    # -- init ---------------------------------------------------------------
    def initialize(self) -> RunScope:
        """Resolve every slot of a private provider graph, in dependency order."""
        if self._shared is None:
            raise ScopeError(f"run {self.run_id}: scope already disposed")
        try:
            missing = [s for s in self.blueprint.shared if s not in self._shared]
            if missing:
                raise BlueprintError(
                    f"blueprint {self.blueprint.path}: needs shared services {missing} "
                    f"that this process does not provide ({', '.join(self._shared) or 'none'})"
                )
            key, graph = self._pool.acquire(self.blueprint, self._config)
            self._graph = (key, graph)
            graph.bind(
                {
                    "log": self.log,
                    "config": self._config,
                    "run_id": self.run_id,
                    "seed_sequence": self._seed_sequence,
                },
                {
                    spec.name: self.blueprint.resolve_args(spec, self._config)
                    for spec in self.blueprint.slots
                    if spec.args
                },
            )
            self._components = graph.resolve()
        except Exception as exc:
            self._move(ScopeState.FAILED)
            self.log.error("scope_init_failed", error=repr(exc))
            raise
        self._order = tuple(self._components)
        self._move(ScopeState.INITIALIZED)
        return self

    @property
    def container(self) -> containers.DynamicContainer:
        """The run's dependency-injector container (while the scope is alive)."""
        if self._graph is None:
            raise ScopeError(f"run {self.run_id}: no container (state {self.state.value})")
        return self._graph[1].container

    # -- run ----------------------------------------------------------------
    def get(self, slot: str) -> Any:
        """The run's component in `slot`."""
        try:
            return self._components[slot]
        except KeyError:
            if self.state is ScopeState.DISPOSED:
                raise ScopeError(f"run {self.run_id}: scope is disposed") from None
            raise BlueprintError(
                f"blueprint {self.blueprint.path}: unknown slot {slot!r}; "
                f"slots: {', '.join(self.blueprint.slot_names)}"
            ) from None

    def components(self) -> Iterator[tuple[str, Any]]:
        """(slot, component) in init order."""
        for name in self._order:
            yield name, self._components[name]

    def start(self) -> RunScope:
        """Call `start()` on components in init order; a failure stops those already started."""
        self._move(ScopeState.RUNNING)
        for name in self._order:
            start: Callable[[], object] | None = getattr(self._components[name], "start", None)
            if start is None:
                continue
            try:
                start()
            except Exception as exc:
                self.log.error("component_start_failed", slot=name, error=repr(exc))
                self._move(ScopeState.FAILED)
                self._stop_started()
                raise
            self._started.append(name)
        return self

    def fail(self, exc: BaseException) -> None:
        """Mark the run failed (a component or the coordinator decided it cannot go on)."""
        if self.state not in (ScopeState.FAILED, ScopeState.DISPOSED):
            self.log.error("run_failed", error=repr(exc))
            self.state = ScopeState.FAILED

    def health(self) -> Health:
        """The worst component health, with each component's report in `detail`."""
        detail: dict[str, Any] = {}
        worst = "healthy"
        for name, component in self.components():
            report = getattr(component, "health", None)
            if report is None:
                continue
            try:
                h = report()
            except Exception as exc:
                h = Health("unhealthy", {"error": repr(exc)})
            detail[name] = h
            if _HEALTH_RANK[h.status] > _HEALTH_RANK[worst]:
                worst = h.status
        return Health(worst, detail)  # type: ignore[arg-type]

    # -- teardown -----------------------------------------------------------
    def stop(self) -> None:
        """Stop started components in reverse init order; every stop runs.

        Raises an `ExceptionGroup` of every failing or hung stop.
        """
        if self.state in (ScopeState.STOPPED, ScopeState.DISPOSED):
            return
        failed = self.state is ScopeState.FAILED
        errors = self._stop_started()
        if not failed:
            self._move(ScopeState.STOPPED)
        if errors:
            self.teardown_errors = tuple(errors)
            message = f"run {self.run_id}: {len(errors)} component(s) failed to stop"
            raise ExceptionGroup(message, errors)

    def _stop_started(self) -> list[Exception]:
        names = list(reversed(self._started))
        self._started = []
        errors: list[Exception] = []
        guarded: list[tuple[str, Callable[[], object]]] = []
        for name in names:
            component = self._components[name]
            if getattr(component, "inline_stop", False):
                # Declared non-blocking: stopping inline saves a thread hand-off per run.
                self._record(errors, self._teardown.run(guarded, self._stop_timeout))
                guarded = []
                try:
                    component.stop()
                except Exception as exc:
                    self._record(errors, [StopOutcome(name, exc)])
                else:
                    self._record(errors, [StopOutcome(name, None)])
            else:
                guarded.append((name, component.stop))
        self._record(errors, self._teardown.run(guarded, self._stop_timeout))
        return errors

    def _record(self, errors: list[Exception], outcomes: list[StopOutcome]) -> None:
        for outcome in outcomes:
            if outcome.error is None:
                continue
            err = outcome.error
            if not isinstance(err, Exception):  # KeyboardInterrupt etc. from a stop()
                err = RuntimeError(repr(err))
            err.add_note(f"while stopping slot {outcome.name!r} of run {self.run_id}")
            self.log.error("component_stop_failed", slot=outcome.name, error=repr(err))
            errors.append(err)

    def dispose(self) -> None:
        """Drop every reference to the run's objects; idempotent."""
        if self.state is ScopeState.DISPOSED:
            return
        if self._started:
            self._stop_started()
        if self._graph is not None:
            key, graph = self._graph
            self._graph = None
            self._pool.release(key, self.blueprint, graph)
        self._components.clear()
        self._shared = None
        self._config = None
        self._seed_sequence = None
        if self._sink is not None and self._own_sink:
            self._sink.close()
        self._sink = None
        self.state = ScopeState.DISPOSED

    def close(self) -> None:
        """Stop (if running) and dispose; raises the teardown `ExceptionGroup` if any."""
        try:
            if self.state in (ScopeState.RUNNING, ScopeState.FAILED):
                self.stop()
        finally:
            self.dispose()

    def __enter__(self) -> RunScope:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self.fail(exc)
        try:
            self.close()
        except ExceptionGroup as group:
            if exc is None:
                raise
            # Keep the body's exception as the one the caller sees; teardown errors ride along.
            exc.add_note(f"teardown also failed: {group!r}")

    def __repr__(self) -> str:
        return f"RunScope({self.run_id!r}, {self.blueprint.name!r}, {self.state.value})"
