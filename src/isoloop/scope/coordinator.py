"""The owner of run scopes in one process: creates, initializes and disposes them."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from isoloop.errors import ConfigError
from isoloop.logging import JsonlFileSink, LogSink, NullSink
from isoloop.scope.blueprint import Blueprint, load_blueprint
from isoloop.scope.graph import GraphPool
from isoloop.scope.roles import SlotRoles
from isoloop.scope.run_scope import RunScope
from isoloop.scope.shared import SharedServices
from isoloop.scope.timed import TimedCalls

__all__ = ["DEFAULT_POOL_SIZE", "MAX_POOL_SIZE", "ScopeCoordinator", "check_pool_size"]

#: Idle provider graphs kept per blueprint for reuse by the next scope (the container pool).
DEFAULT_POOL_SIZE = 8
MAX_POOL_SIZE = 1024


def check_pool_size(pool_size: object, key: str = "pool_size") -> int:
    """`pool_size` if it is a whole number in 0..MAX_POOL_SIZE, else a `ConfigError`."""
    if isinstance(pool_size, bool) or not isinstance(pool_size, int):
        raise ConfigError(f"{key}: must be a whole number from 0 to {MAX_POOL_SIZE}")
    if not 0 <= pool_size <= MAX_POOL_SIZE:
        raise ConfigError(
            f"{key}: {pool_size} is out of range; use 0 (build every container afresh) "
            f"to {MAX_POOL_SIZE} (default {DEFAULT_POOL_SIZE})"
        )
    return pool_size


class ScopeCoordinator:
    """Creates run scopes over one set of shared services.

    Thread-safe: each scope is confined to the thread that opened it, and the
    coordinator's own state is an id counter and the helper threads that bound
    its scopes' starts and stops.

    `roles` is the run kind's role table (`isoloop.engine.roles`): with it, every
    slot's class must play that slot's role, checked before a component is built.
    Without it only the checks every blueprint gets apply (no standard-library
    classes, plain `@config.` fields): the kernel's own stand-in tests run so.

    `pool_size` is how many built-but-idle containers (provider graphs) are kept per
    blueprint for the next scope to reuse: a scope reuses one instead of building
    its providers again (cleared between runs, so nothing of a run carries over).
    Raise it to the number of scopes a process runs at once (threads); 0 builds
    every container afresh and keeps none.
    """

    def __init__(
        self,
        shared: SharedServices,
        *,
        stop_timeout: float = 5.0,
        roles: SlotRoles | None = None,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        self.shared = shared
        self.pool_size = check_pool_size(pool_size)
        self.stop_timeout = stop_timeout
        self.roles = roles
        self._ids = itertools.count(1)
        self._calls = TimedCalls()
        self._pool = GraphPool(shared, max_idle=self.pool_size, roles=roles)
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
        # A plain seed becomes the run's SeedSequence only if a slot asks for one (most
        # blueprints have none that does: ≈ 5 µs a run); anything else is made now, so a
        # bad seed fails here as it always did.
        seq: np.random.SeedSequence | int = seed
        if type(seed) is not int or seed < 0:
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
