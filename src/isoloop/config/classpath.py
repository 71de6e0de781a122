"""Class paths (`module:Class`) in configs and blueprints, and where moved ones went.

A class path is a code reference the user trusts, like an entry point: importing
its module runs that module's import-time code. For shared or multi-user
deployments, `$ISOLOOP_ALLOWED_MODULES` (comma-separated module prefixes, e.g.
`mycompany.strategies,acme`) limits which modules a class path may import; a
module outside it is refused before it is imported. isoloop's own modules are
always allowed. See docs/security.md.

A user's own module that is not importable otherwise is looked for in the
`search` folders given to `import_class` (the run config's folder, or its
`strategy.path`): when `<folder>/<name>.py` or `<folder>/<name>/__init__.py`
exists, the folder is appended to `sys.path` once (so its sibling modules
import too, and worker processes do the same from the pinned folder). A module
that is importable already — installed, or on `PYTHONPATH` — always wins over a
folder's file of the same name; the allow-list applies to folder modules too.

Paths that an earlier release used are redirected for one release with a
`DeprecationWarning`, so a user's saved config or blueprint keeps running
while it says what to write instead.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any, cast

from isoloop.errors import BlueprintError

__all__ = [
    "ALLOWED_MODULES_ENV",
    "MOVED_MODULES",
    "allowed_module_prefixes",
    "check_module_allowed",
    "import_class",
    "import_function",
    "module_file",
    "resolve_moved",
    "user_module_folder",
]

ALLOWED_MODULES_ENV = "ISOLOOP_ALLOWED_MODULES"
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_CLASS = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

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


def allowed_module_prefixes() -> tuple[str, ...] | None:
    """The allow-list from `$ISOLOOP_ALLOWED_MODULES`, or None when any module may be named."""
    raw = os.environ.get(ALLOWED_MODULES_ENV, "").strip()
    if not raw:
        return None
    prefixes = (p.strip().rstrip(".") for p in raw.split(","))
    return ("isoloop", *(p for p in prefixes if p))


def check_module_allowed(module_name: str, *, where: str) -> None:
    """Refuse a module outside the allow-list (a prefix matches itself and its submodules)."""
    allowed = allowed_module_prefixes()
    if allowed is None:
        return
    if any(module_name == p or module_name.startswith(p + ".") for p in allowed):
        return
    raise BlueprintError(
        f"{where}: module {module_name!r} is not in {ALLOWED_MODULES_ENV} "
        f"({', '.join(allowed)}); add its package there or name code from an allowed one"
    )


def user_module_folder(module_name: str, search: Sequence[str | Path]) -> Path | None:
    """The first folder of `search` that holds `module_name`'s top-level module or package."""
    top = module_name.partition(".")[0]
    for entry in search:
        folder = Path(entry)
        if (folder / f"{top}.py").is_file() or (folder / top / "__init__.py").is_file():
            return folder
    return None


def module_file(module_name: str) -> Path | None:
    """Where an imported module's top-level module or package lives (None if not a file)."""
    top = sys.modules.get(module_name.partition(".")[0])
    origin = getattr(top, "__file__", None)
    return Path(origin).resolve() if isinstance(origin, str) else None


def _import_module(
    module_name: str, ref: str, where: str, search: Sequence[str | Path]
) -> ModuleType:
    top = module_name.partition(".")[0]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        folder = user_module_folder(module_name, search)
        if folder is None or exc.name not in (top, module_name):
            where_to = f" or in {', '.join(str(f) for f in search)}" if search else ""
            raise BlueprintError(
                f"{where}: cannot import module {module_name!r} for {ref!r} ({exc}); "
                f"check the spelling, install the package, or put {top}.py next to the "
                f"config{where_to}"
            ) from None
    except ImportError as exc:
        raise BlueprintError(
            f"{where}: cannot import module {module_name!r} for {ref!r} ({exc}); "
            "check the spelling or install the package"
        ) from None
    entry = str(folder.resolve())
    if entry not in sys.path:
        sys.path.append(entry)  # appended: an installed module of the same name still wins
    importlib.invalidate_caches()
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise BlueprintError(
            f"{where}: cannot import module {module_name!r} from {entry} for {ref!r} ({exc})"
        ) from None


def _lookup(
    ref: str, where: str, search: Sequence[str | Path], noun: str, example: str, named: str
) -> tuple[object, str, str, str]:
    """(the attribute, module name, attribute name, resolved ref) of `module:attr`, after
    the checks every code reference passes: its shape, moved modules, the allow-list."""
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise BlueprintError(
            f"{where}: {noun} path {ref!r} must look like 'package.module:{example}'"
        )
    ref = resolve_moved(ref, where=where)
    module_name, _, attr = ref.partition(":")
    if not _MODULE.fullmatch(module_name) or not _CLASS.fullmatch(attr):
        shown = ref if len(ref) <= 80 else ref[:80] + "…"
        raise BlueprintError(
            f"{where}: {noun} path {shown!r} must be 'package.module:{example}' with a public "
            f"{named} (letters, digits, _; not starting with _)"
        )
    check_module_allowed(module_name, where=where)
    module = _import_module(module_name, ref, where, search)
    return getattr(module, attr, None), module_name, attr, ref


def import_function(
    ref: str, *, where: str, search: Sequence[str | Path] = ()
) -> Callable[..., Any]:
    """Import a module-level function `module:function` under the same rules as a class
    (allow-list, search folders, moved modules); a class or non-callable is refused."""
    obj, module_name, attr, ref = _lookup(ref, where, search, "function", "function", "name")
    if isinstance(obj, type) or not callable(obj):
        raise BlueprintError(
            f"{where}: {module_name!r} has no function {attr!r}; check the name in {ref!r}"
        )
    return cast("Callable[..., Any]", obj)


def import_class(ref: str, *, where: str, search: Sequence[str | Path] = ()) -> type:
    """Import `module:Class`; errors name `where` (file and slot) and the fix.

    The module is checked against the allow-list before it is imported. A module
    that is not importable otherwise is looked for in the `search` folders.
    """
    obj, module_name, attr, ref = _lookup(ref, where, search, "class", "Class", "class name")
    if not isinstance(obj, type):
        raise BlueprintError(
            f"{where}: {module_name!r} has no class {attr!r}; check the class name in {ref!r}"
        )
    return obj
