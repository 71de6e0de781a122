"""Errors of the live manager, all under isoloop's one hierarchy."""

from __future__ import annotations

from isoloop.errors import ConfigError, IsoloopError

__all__ = [
    "ControlError",
    "CredentialsError",
    "LiveError",
    "RecoverableError",
    "StartupReconciliationError",
]


class LiveError(IsoloopError):
    """A live or paper container could not start or keep running."""


class CredentialsError(ConfigError):
    """A venue credential is missing or still a placeholder (never carries the value)."""


class StartupReconciliationError(LiveError):
    """The venue's account and the container's own persisted state disagree at startup."""


class RecoverableError(LiveError):
    """A transient failure (connection, timeout): the tick is retried with backoff."""


class ControlError(LiveError):
    """The control API refused a request or could not be reached."""
