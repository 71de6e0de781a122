"""Package `__init__`s that import their public names on first use (PEP 562).

A package's `__init__` that imports every submodule makes importing any one of
them pay for all: `isoloop validate` reached the engine's health module through
`isoloop.scope`'s `__init__`, which loaded the coordinator, the run logger,
structlog and rich. A lazy table keeps `from isoloop.scope import RunScope`
working while `import isoloop.scope.lifecycle` loads only what it names.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`(__getattr__, __dir__)` for `package`: `names` maps a public name to the module
    that defines it, or to `module:attribute` when the public name is an alias."""
    table = MappingProxyType(dict(names))

    def getattr_(name: str) -> Any:
        target = table.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = target.partition(":")
        value = getattr(importlib.import_module(module), attribute or name)
        # Cache on the package: the next read is a plain attribute lookup.
        setattr(sys.modules[package], name, value)
        return value

    def dir_() -> list[str]:
        return sorted({*vars(sys.modules[package]), *table})

    return getattr_, dir_
