"""The lifecycle vocabulary shared by run scopes and their components."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = ["Health", "HealthStatus", "Lifecycle", "ScopeState", "check_transition"]

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


class ScopeState(StrEnum):
    CREATED = "created"
    INITIALIZED = "initialized"
    RUNNING = "running"
    STOPPED = "stopped"
    DISPOSED = "disposed"
    FAILED = "failed"


# Disposal is allowed from every state so that a `with` block can always clean up.
_ALLOWED: Mapping[ScopeState, frozenset[ScopeState]] = MappingProxyType(
    {
        ScopeState.CREATED: frozenset(
            {ScopeState.INITIALIZED, ScopeState.FAILED, ScopeState.DISPOSED}
        ),
        ScopeState.INITIALIZED: frozenset(
            {ScopeState.RUNNING, ScopeState.STOPPED, ScopeState.FAILED, ScopeState.DISPOSED}
        ),
        ScopeState.RUNNING: frozenset({ScopeState.STOPPED, ScopeState.FAILED, ScopeState.DISPOSED}),
        ScopeState.STOPPED: frozenset({ScopeState.DISPOSED, ScopeState.FAILED}),
        ScopeState.FAILED: frozenset({ScopeState.STOPPED, ScopeState.DISPOSED}),
        ScopeState.DISPOSED: frozenset(),
    }
)


def check_transition(current: ScopeState, target: ScopeState) -> bool:
    """True when a scope may go from `current` to `target`."""
    return target in _ALLOWED[current]
