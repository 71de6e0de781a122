"""Isolation guards: catch run state that escapes the run's scope.

Shared arrays are read-only, so writing into market data raises at the write.
What Python cannot forbid is a component keeping state on its *class* (a
list appended to, a counter rebound): every later run in the same process
would see it. The guard takes a cheap snapshot of a class's own attributes
before a run and compares it after; a change fails the run with
`IsolationError` naming the attribute.

Not covered (documented in docs/architecture.md): mutation inside arbitrary
objects held by a class attribute (only containers' identity and size are
compared), module-level globals, and state in C extensions.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

from isoloop.errors import IsolationError

__all__ = ["check_class_state", "class_state"]

_SCALARS = (int, float, complex, str, bytes, bool, type(None), frozenset)
_CONTAINERS = (list, dict, set, bytearray)
_SKIP = (
    types.FunctionType,
    types.BuiltinFunctionType,
    classmethod,
    staticmethod,
    property,
    type,
    types.MemberDescriptorType,
    types.GetSetDescriptorType,
)


def _token(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return (type(value).__name__, value)
    if isinstance(value, tuple):
        return ("tuple", tuple(_token(v) for v in value))
    if isinstance(value, _CONTAINERS):
        return (type(value).__name__, id(value), len(value))
    return (type(value).__name__, id(value))


def class_state(cls: type) -> Mapping[tuple[str, str], Any]:
    """A snapshot of the class attributes of `cls` and its bases (outside isoloop)."""
    snap: dict[tuple[str, str], Any] = {}
    for klass in cls.__mro__:
        if klass is object or klass.__module__.startswith("isoloop."):
            continue  # isoloop's own classes are checked by tests, not at run time
        for name, value in vars(klass).items():
            if name.startswith("__") or isinstance(value, _SKIP):
                continue
            snap[(klass.__qualname__, name)] = _token(value)
    return snap


def check_class_state(cls: type, before: Mapping[tuple[str, str], Any], run_id: str) -> None:
    """Raise `IsolationError` when a class attribute changed during the run."""
    after = class_state(cls)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if changed:
        names = ", ".join(f"{owner}.{attr}" for owner, attr in changed)
        raise IsolationError(
            f"run {run_id}: class attribute(s) {names} changed during the run; keep run state "
            "on the instance (self.x in init), not on the class, or it leaks into other runs"
        )
