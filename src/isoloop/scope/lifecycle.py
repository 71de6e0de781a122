"""The lifecycle vocabulary shared by run scopes, their components and live containers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "ComponentState",
    "Health",
    "HealthStatus",
    "Lifecycle",
    "ScopeState",
    "check_transition",
]

HealthStatus = Literal["healthy", "degraded", "unhealthy"]


@dataclass(frozen=True, slots=True)
class Health:
    """What a component says about itself; containers aggregate these."""

    status: HealthStatus = "healthy"
    detail: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Lifecycle(Protocol):
    """Components opt in by defining these; each method is optional on its own."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def health(self) -> Health: ...


class ComponentState(StrEnum):
    """One vocabulary for a run scope, a live container and each slot of either.

    A scope or container moves along `check_transition`. A slot is `initialized`
    once built, `started` once its `start()` returned (or it has none), then
    `stopped`, `stop_failed`, or `forced` (a start or stop that outlived its
    timeout and was abandoned); `failed` if its `start()` raised. The values are
    the strings the live status output and hooks carry.
    """

    CREATED = "created"
    INITIALIZING = "initializing"
    INITIALIZED = "initialized"
    STARTED = "started"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    STOP_FAILED = "stop_failed"
    FORCED = "forced"
    FAILED = "failed"
    DISPOSED = "disposed"


# The name the scope API has always used.
ScopeState = ComponentState

_S = ComponentState
# Disposal is allowed from every state so that a `with` block can always clean up.
_ALLOWED: Mapping[ComponentState, frozenset[ComponentState]] = MappingProxyType(
    {
        _S.CREATED: frozenset(
            {_S.INITIALIZING, _S.INITIALIZED, _S.STOPPING, _S.STOPPED, _S.FAILED, _S.DISPOSED}
        ),
        _S.INITIALIZING: frozenset({_S.INITIALIZED, _S.STOPPING, _S.FAILED, _S.DISPOSED}),
        _S.INITIALIZED: frozenset(
            {_S.RUNNING, _S.PAUSED, _S.STOPPING, _S.STOPPED, _S.FAILED, _S.DISPOSED}
        ),
        _S.RUNNING: frozenset({_S.PAUSED, _S.STOPPING, _S.STOPPED, _S.FAILED, _S.DISPOSED}),
        _S.PAUSED: frozenset({_S.RUNNING, _S.STOPPING, _S.STOPPED, _S.FAILED, _S.DISPOSED}),
        _S.STOPPING: frozenset({_S.STOPPED, _S.FAILED, _S.DISPOSED}),
        _S.STOPPED: frozenset({_S.DISPOSED, _S.FAILED}),
        _S.FAILED: frozenset({_S.STOPPED, _S.DISPOSED}),
        _S.DISPOSED: frozenset(),
    }
)


def check_transition(current: ComponentState, target: ComponentState) -> bool:
    """True when a scope or container may go from `current` to `target`.

    Slot-only states (`started`, `stop_failed`, `forced`) are never a scope's.
    """
    return target in _ALLOWED.get(current, frozenset())
