"""The root of isoloop's exception hierarchy for input and scope errors.

Every error a user can cause with a config, a data file or a blueprint derives
from `IsoloopError`, so the CLI can turn any of them into one `error:` line and
exit code 2 without guessing.
"""

from __future__ import annotations

__all__ = [
    "BlueprintError",
    "ConfigError",
    "DataError",
    "IsolationError",
    "IsoloopError",
    "ScopeError",
]


class IsoloopError(Exception):
    """Base class of every error isoloop raises on purpose."""


class ConfigError(IsoloopError):
    """A run or sweep config is invalid (file, key and fix are in the message)."""


class DataError(IsoloopError):
    """Market data is missing or violates a rule (source, row and rule in the message)."""


class BlueprintError(IsoloopError):
    """A container blueprint names an unknown slot, class or parameter."""


class ScopeError(IsoloopError):
    """A run scope was used in a state that does not allow it."""


class IsolationError(IsoloopError):
    """A run tried to keep state outside its scope (e.g. in a class attribute)."""
