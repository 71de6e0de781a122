"""One run's container and the lifecycle that owns it.

The container is a `DynamicContainer` checked out of the coordinator's pool of
provider graphs (see `graph.py`): each slot is built once per run and exposed
as that run's single instance. A graph serves one live scope at a time and is
cleared before reuse, so nothing of one run is reachable from another (no
override registrations, no class-level providers that would keep runs alive).

Every run — a backtest, a sweep trial, a live container — goes through the
same `initialize → start → stop → dispose`; a long-lived run passes timeouts
so that a component that hangs while being built or started is abandoned and
reported by its slot name instead of blocking its caller.

With a sink that records (not the `NullSink` of a sweep trial), every step is an
event: `scope_state` on each lifecycle move, `component_initialized`,
`component_started` and `component_stopped` per slot, and each error event carries
code, severity, component, operation, message and traceback (`ErrorEvent`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType, TracebackType
from typing import Any

import numpy as np
from dependency_injector import containers

from isoloop.errors import BlueprintError, ScopeError
from isoloop.logging import LogSink, RunLogger, make_run_logger
from isoloop.model.events import ErrorEvent, locate_failure
from isoloop.scope.blueprint import Blueprint
from isoloop.scope.graph import GraphPool, ProviderGraph
from isoloop.scope.lifecycle import ComponentState, Health, check_transition
from isoloop.scope.shared import SharedServices
from isoloop.scope.timed import CallOutcome, TimedCalls

__all__ = ["RunScope"]

_HEALTH_RANK = MappingProxyType({"healthy": 0, "degraded": 1, "unhealthy": 2})
_S = ComponentState
# Members bound once: an enum attribute lookup costs ~10x a global on the per-slot path.
_RUNNING, _STARTED, _STOPPED = _S.RUNNING, _S.STARTED, _S.STOPPED
_STOP_LABEL = "stop of module {name!r}"


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
        seed_sequence: np.random.SeedSequence | int,
        sink: LogSink,
        own_sink: bool,
        calls: TimedCalls,
        pool: GraphPool,
        stop_timeout: float,
    ) -> None:
        self.blueprint = blueprint
        self.run_id = run_id
        self.container_id = container_id
        self.state = _S.CREATED
        self.log: RunLogger = make_run_logger(
            sink, run_id=run_id, container_id=container_id, blueprint=blueprint.name
        )
        self.teardown_errors: tuple[BaseException, ...] = ()
        # Every stop this run made, in the order made (also those after a failed start).
        self.stop_outcomes: list[CallOutcome] = []
        self._shared: SharedServices | None = shared
        self._config = config
        # An int (a seed >= 0) until a slot asks for the SeedSequence made from it.
        self._seed_sequence: np.random.SeedSequence | int | None = seed_sequence
        self._sink: LogSink | None = sink
        # Lifecycle events cost a rendered line each: only when the sink keeps them.
        self._verbose = sink.enabled
        self._own_sink = own_sink
        self._calls = calls
        self._stop_timeout = stop_timeout
        self._pool = pool
        self._graph: tuple[Any, ProviderGraph] | None = None
        self._components: dict[str, Any] = {}
        self._order: tuple[str, ...] = ()
        self._started: list[str] = []
        self._slots: dict[str, ComponentState] = {}

    # -- states -------------------------------------------------------------
    def _move(self, target: ComponentState) -> None:
        if not check_transition(self.state, target):
            raise ScopeError(
                f"run {self.run_id}: cannot go from {self.state.value} to {target.value}"
            )
        if self._verbose:
            self.log.info("scope_state", previous=self.state.value, state=target.value)
        self.state = target

    def _error(self, event: str, exc: BaseException, component: str, operation: str) -> None:
        """Log error `event` with the error's code, severity, component, operation, trace."""
        if self._verbose:
            found = ErrorEvent.of(exc, component=component, operation=operation)
            self.log.error(event, error=repr(exc), **found.fields())

    @property
    def init_order(self) -> tuple[str, ...]:
        """Slots in the order they were initialized (dependencies first)."""
        return self._order

    @property
    def slot_states(self) -> Mapping[str, ComponentState]:
        """Each slot's state (a live view; it outlives disposal, holding only names)."""
        return MappingProxyType(self._slots)

    # -- init ---------------------------------------------------------------
    def initialize(self, timeout: float | None = None) -> RunScope:
        """Resolve every slot of a private provider graph, in dependency order.

        With `timeout`, building the slots runs on a helper thread; if it has not
        finished in time the scope fails with a `TimeoutError` and the half-built
        graph is abandoned (never returned to the pool while a thread still fills it).
        """
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
            seq = self._seed_sequence
            if isinstance(seq, int) and "seed_sequence" in graph.run_params:
                seq = self._seed_sequence = np.random.SeedSequence(seq)
            graph.bind(
                {
                    "log": self.log,
                    "config": self._config,
                    "run_id": self.run_id,
                    "seed_sequence": seq,
                },
                self.blueprint.slot_args(self._config),
            )
            if timeout is None:
                self._components = graph.resolve()
            else:
                self._components = self._resolve_within(graph, timeout)
        except Exception as exc:
            self._move(_S.FAILED)
            self._error("scope_init_failed", exc, "scope", "initialize")
            raise
        self._order = tuple(self._components)
        self._slots.update(dict.fromkeys(self._order, _S.INITIALIZED))
        if self._verbose:
            for name, component in self._components.items():
                cls = type(component)
                where = f"{cls.__module__}:{cls.__qualname__}"
                self.log.info("component_initialized", slot=name, class_path=where)
        self._move(_S.INITIALIZED)
        return self

    def _resolve_within(self, graph: ProviderGraph, timeout: float) -> dict[str, Any]:
        made: list[dict[str, Any]] = []
        what = f"building the modules of run {self.run_id!r}"
        outcome = self._calls.run(((what, lambda: made.append(graph.resolve())),), timeout)[0]
        if outcome.timed_out:
            self._graph = None
        if outcome.error is not None:
            raise outcome.error
        return made[0]

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
            if self.state is _S.DISPOSED:
                raise ScopeError(f"run {self.run_id}: scope is disposed") from None
            raise BlueprintError(
                f"blueprint {self.blueprint.path}: unknown slot {slot!r}; "
                f"slots: {', '.join(self.blueprint.slot_names)}"
            ) from None

    def components(self) -> Iterator[tuple[str, Any]]:
        """(slot, component) in init order."""
        for name in self._order:
            yield name, self._components[name]

    def start(self, timeout: float | None = None) -> RunScope:
        """Call `start()` on components in init order, each within `timeout` seconds if given.

        A component without `start()` counts as started once reached, so its
        `stop()` runs at teardown. A failure marks the scope failed, stops what
        started (reverse order) and re-raises; a start that timed out counts as
        started — it may hold what it was acquiring — and is stopped too.
        """
        self._move(_RUNNING)
        slots, components = self._slots, self._components
        for name in self._order:
            if self.state is not _RUNNING:
                break  # stopped from another thread while starting
            start: Callable[[], object] | None = getattr(components[name], "start", None)
            if not callable(start):
                start = None
            if start is not None:
                if timeout is None:
                    try:
                        start()
                    except Exception as exc:
                        self._start_failed(name, exc, timed_out=False)
                        raise
                else:
                    label = "start of module {name!r}"
                    outcome = self._calls.run(((name, start),), timeout, label=label)[0]
                    if outcome.error is not None:
                        self._start_failed(name, outcome.error, outcome.timed_out)
                        raise outcome.error
            self._started.append(name)  # not a local: a concurrent stop() swaps the list
            slots[name] = _STARTED
            if self._verbose:
                self.log.info("component_started", slot=name)
        return self

    def _start_failed(self, name: str, exc: BaseException, timed_out: bool) -> None:
        if self._verbose:
            found = ErrorEvent.of(exc, component=name, operation="start")
            self.log.error(
                "component_start_failed",
                slot=name,
                error=repr(exc),
                timed_out=timed_out,
                **found.fields(),
            )
        self._slots[name] = _S.FORCED if timed_out else _S.FAILED
        if timed_out:
            self._started.append(name)
        self._move(_S.FAILED)
        self._stop_started()
        if timed_out:
            self._slots[name] = _S.FORCED  # its start() still runs on an abandoned thread

    def fail(self, exc: BaseException) -> None:
        """Mark the run failed (a component or the coordinator decided it cannot go on)."""
        if self.state not in (_S.FAILED, _S.DISPOSED):
            if self._verbose:
                self._error("run_failed", exc, *locate_failure(exc, self.components()))
            self.state = _S.FAILED

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
    def stop(self) -> list[CallOutcome]:
        """Stop started components in reverse init order; every stop runs.

        Returns each stop's outcome; raises an `ExceptionGroup` of every failing
        or hung stop (the outcomes are then in `stop_outcomes`).
        """
        if self.state in (_S.STOPPED, _S.DISPOSED):
            return []
        failed = self.state is _S.FAILED
        outcomes, errors = self._stop_started()
        if not failed:
            self._move(_S.STOPPED)
        if errors:
            self.teardown_errors = tuple(errors)
            message = f"run {self.run_id}: {len(errors)} component(s) failed to stop"
            raise ExceptionGroup(message, errors)
        return outcomes

    def _stop_started(self) -> tuple[list[CallOutcome], list[Exception]]:
        names = self._started
        self._started = []
        outcomes: list[CallOutcome] = []
        guarded: list[tuple[str, Callable[[], object]]] = []
        slots = self._slots
        for name in reversed(names):
            component = self._components[name]
            stop: Callable[[], object] | None = getattr(component, "stop", None)
            # A component attribute that is not a method (a strategy parameter named
            # `stop`, say) is not a lifecycle hook.
            if not callable(stop):
                stop = None
            if stop is None:
                slots[name] = _STOPPED
            elif getattr(component, "inline_stop", False):
                # Declared non-blocking: stopping inline saves a thread hand-off per run.
                if guarded:
                    outcomes += self._calls.run(guarded, self._stop_timeout, label=_STOP_LABEL)
                    guarded = []
                try:
                    stop()
                except Exception as exc:
                    outcomes.append(CallOutcome(name, exc))
                else:
                    outcomes.append(CallOutcome(name))
            else:
                guarded.append((name, stop))
        if guarded:
            outcomes += self._calls.run(guarded, self._stop_timeout, label=_STOP_LABEL)
        self.stop_outcomes += outcomes
        errors = self._settle(outcomes)
        if self._verbose:
            for name in reversed(names):
                self.log.info("component_stopped", slot=name, state=slots[name].value)
        return outcomes, errors

    def _settle(self, outcomes: list[CallOutcome]) -> list[Exception]:
        errors: list[Exception] = []
        slots = self._slots
        for outcome in outcomes:
            err = outcome.error
            if err is None:
                slots[outcome.name] = _STOPPED
                continue
            slots[outcome.name] = _S.FORCED if outcome.timed_out else _S.STOP_FAILED
            if not isinstance(err, Exception):  # KeyboardInterrupt etc. from a stop()
                err = RuntimeError(repr(err))
            err.add_note(f"while stopping slot {outcome.name!r} of run {self.run_id}")
            self._error("component_stop_failed", err, outcome.name, "stop")
            errors.append(err)
        return errors

    def dispose(self) -> None:
        """Drop every reference to the run's objects; idempotent."""
        if self.state is _S.DISPOSED:
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
        self.state = _S.DISPOSED

    def close(self) -> None:
        """Stop (if running) and dispose; raises the teardown `ExceptionGroup` if any."""
        try:
            if self.state in (_S.RUNNING, _S.FAILED):
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
