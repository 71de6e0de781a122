"""The owner of run scopes in one process: creates, initializes and disposes them."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from isoloop.logging import JsonlFileSink, LogSink, NullSink
from isoloop.scope.blueprint import Blueprint, load_blueprint
from isoloop.scope.graph import GraphPool
from isoloop.scope.roles import SlotRoles
from isoloop.scope.run_scope import RunScope
from isoloop.scope.shared import SharedServices
from isoloop.scope.timed import TimedCalls

__all__ = ["ScopeCoordinator"]


class ScopeCoordinator:
    """Creates run scopes over one set of shared services.

    Thread-safe: each scope is confined to the thread that opened it, and the
    coordinator's own state is an id counter and the helper threads that bound
    its scopes' starts and stops.

    `roles` is the run kind's role table (`isoloop.engine.roles`): with it, every
    slot's class must play that slot's role, checked before a component is built.
    Without it only the checks every blueprint gets apply (no standard-library
    classes, plain `@config.` fields): the kernel's own stand-in tests run so.
    """

    def __init__(
        self,
        shared: SharedServices,
        *,
        stop_timeout: float = 5.0,
        roles: SlotRoles | None = None,
    ) -> None:
        self.shared = shared
        self.stop_timeout = stop_timeout
        self.roles = roles
        self._ids = itertools.count(1)
        self._calls = TimedCalls()
        self._pool = GraphPool(shared, roles=roles)
        self._blueprints: dict[str, Blueprint] = {}
        self._lock = threading.Lock()

    def blueprint(self, blueprint: Blueprint | str | Path) -> Blueprint:
        """A blueprint by object, name or path; files are parsed once per coordinator."""
        if isinstance(blueprint, Blueprint):
            return blueprint
        key = str(blueprint)
        with self._lock:
            cached = self._blueprints.get(key)
        if cached is None:
            cached = load_blueprint(blueprint)
            with self._lock:
                cached = self._blueprints.setdefault(key, cached)
        return cached

    def create(
        self,
        blueprint: Blueprint | str | Path,
        *,
        config: object = None,
        run_id: str | None = None,
        seed: int | np.random.SeedSequence = 0,
        log_sink: LogSink | None = None,
        events_path: Path | None = None,
    ) -> RunScope:
        """A new, not yet initialized scope (state `created`)."""
        bp = self.blueprint(blueprint)
        n = next(self._ids)
        rid = run_id if run_id is not None else f"run-{n}"
        own_sink = False
        if log_sink is None:
            if events_path is not None:
                log_sink, own_sink = JsonlFileSink(events_path), True
            else:
                log_sink = NullSink()
        seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        return RunScope(
            bp,
            self.shared,
            config=config,
            run_id=rid,
            container_id=f"{bp.name}-{n}",
            seed_sequence=seq,
            sink=log_sink,
            own_sink=own_sink,
            calls=self._calls,
            pool=self._pool,
            stop_timeout=self.stop_timeout,
        )

    @contextmanager
    def scope(
        self,
        blueprint: Blueprint | str | Path,
        *,
        config: object = None,
        run_id: str | None = None,
        seed: int | np.random.SeedSequence = 0,
        log_sink: LogSink | None = None,
        events_path: Path | None = None,
    ) -> Iterator[RunScope]:
        """An initialized scope that is always stopped and disposed on exit."""
        run = self.create(
            blueprint,
            config=config,
            run_id=run_id,
            seed=seed,
            log_sink=log_sink,
            events_path=events_path,
        )
        with run:
            run.initialize()
            yield run

    def close(self) -> None:
        """Release the helper threads and idle provider graphs."""
        self._calls.close()
        self._pool.clear()
