"""Component health, in the scope's `Health` shape."""

from __future__ import annotations

from typing import Any, Literal

from isoloop.scope.lifecycle import Health

__all__ = ["Health", "health"]


def health(status: Literal["healthy", "degraded", "unhealthy"], **detail: Any) -> Health:
    return Health(status=status, detail=detail)
