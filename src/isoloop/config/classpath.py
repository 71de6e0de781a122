"""Class paths (`module:Class`) in configs and blueprints, and where moved ones went.

A class path is a code reference the user trusts, like an entry point. Paths
that an earlier release used are redirected for one release with a
`DeprecationWarning`, so a user's saved config or blueprint keeps running
while it says what to write instead.
"""

from __future__ import annotations

import importlib
import warnings
from types import MappingProxyType

from isoloop.errors import BlueprintError

__all__ = ["MOVED_MODULES", "import_class", "resolve_moved"]

# Old module → new module, for the layout change of 0.2.0 (remove in 0.3.0).
MOVED_MODULES: MappingProxyType[str, str] = MappingProxyType(
    {
        "isoloop.engine.backtest": "isoloop.backtest.driver",
        "isoloop.venues.base": "isoloop.engine.venue",
        "isoloop.live.clock": "isoloop.live.slots.clock",
        "isoloop.live.engine": "isoloop.live.slots.engine",
        "isoloop.live.paper": "isoloop.live.slots.paper",
        "isoloop.live.broker": "isoloop.live.slots.broker",
        "isoloop.live.store": "isoloop.live.slots.store",
        "isoloop.live.credentials": "isoloop.live.slots.credentials",
        "isoloop.runs.backtest": "isoloop.backtest.run",
    }
)


def resolve_moved(ref: str, *, where: str) -> str:
    """The current spelling of `ref`; warns once per call site when it was moved."""
    module_name, sep, attr = ref.partition(":")
    new = MOVED_MODULES.get(module_name)
    if new is None:
        return ref
    warnings.warn(
        f"{where}: {module_name!r} moved to {new!r}; write {new}:{attr} "
        "(the old path stops working in isoloop 0.3)",
        DeprecationWarning,
        stacklevel=3,
    )
    return f"{new}{sep}{attr}"


def import_class(ref: str, *, where: str) -> type:
    """Import `module:Class`; errors name `where` (file and slot) and the fix."""
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise BlueprintError(f"{where}: class path {ref!r} must look like 'package.module:Class'")
    ref = resolve_moved(ref, where=where)
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BlueprintError(
            f"{where}: cannot import module {module_name!r} for {ref!r} ({exc}); "
            "check the spelling or install the package"
        ) from None
    obj = getattr(module, attr, None)
    if not isinstance(obj, type):
        raise BlueprintError(
            f"{where}: {module_name!r} has no class {attr!r}; check the class name in {ref!r}"
        )
    return obj
