"""`@config.` references of a blueprint: checked once per blueprint, read once per run.

A reference names plain fields only (`@config.venue.cash`), never private or
dunder attributes and never methods. What a reference *means* (its field names,
the slot it belongs to, the text of its errors) is fixed by the blueprint file,
so it is worked out once per blueprint object (`SlotRefs`); what it *reads* comes
from each run's own config, so values are never cached — every run follows its
references through its own config and gets its own config's objects.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel

from isoloop.errors import BlueprintError

__all__ = [
    "CONFIG_REF",
    "FIELD",
    "ConfigReader",
    "SlotRefs",
    "check_config_ref",
    "follow_config_ref",
    "resolve_config_ref",
]

CONFIG_REF = "@config."
# A `@config.` path: plain field names only (no private or dunder attribute, no index).
FIELD = re.compile(r"[a-z][a-z0-9_]*")
_MISSING = object()

# (argument name, the reference's field names or None for a plain value, the value as
# written): one argument of a slot.
ArgRef = tuple[str, tuple[str, ...] | None, Any]


class SlotRefs(NamedTuple):
    """One slot's references, checked: its class and its arguments."""

    name: str
    where: str  # "blueprint <path>, slot '<name>'": the prefix of every error
    class_ref: str  # as written
    class_parts: tuple[str, ...] | None  # its field names when it is a `@config.` reference
    args: tuple[ArgRef, ...]


def check_config_ref(ref: str, *, where: str) -> tuple[str, ...]:
    """The field names of `@config.a.b`; refuses anything but plain field names."""
    parts = tuple(ref.removeprefix(CONFIG_REF).split("."))
    for part in parts:
        if not FIELD.fullmatch(part):
            shown = part if len(part) <= 40 else part[:40] + "…"
            raise BlueprintError(
                f"{where}: {shown!r} in a @config reference is not a plain field name; "
                "write @config.<section>.<field> with lowercase names (a-z, 0-9, _), "
                "never starting with an underscore"
            )
    return parts


def _step(value: Any, part: str, ref: str, where: str) -> Any:
    """One field of `value`: a mapping key or a data attribute (never a method)."""
    if isinstance(value, Mapping):
        if part not in value:
            raise BlueprintError(f"{where}: {ref!r} does not exist in the run config")
        return value[part]
    # A declared field of a config model is data (the common case); anything else goes
    # through a static lookup first, so a name the object does not have runs no
    # `__getattr__`.
    if isinstance(value, BaseModel) and part in type(value).model_fields:
        value = getattr(value, part)
    elif inspect.getattr_static(value, part, _MISSING) is _MISSING:
        raise BlueprintError(f"{where}: {ref!r} does not exist in the run config")
    else:
        value = getattr(value, part)
    if callable(value):
        raise _not_data(ref, where)
    return value


def _not_data(ref: str, where: str) -> BlueprintError:
    return BlueprintError(
        f"{where}: {ref!r} names a method or a class, not a field of the run config"
    )


def follow_config_ref(parts: tuple[str, ...], ref: str, config: object, *, where: str) -> Any:
    """Follow checked field names through mapping keys or data attributes of `config`."""
    value: Any = config
    for part in parts:
        value = _step(value, part, ref, where)
    return value


def resolve_config_ref(ref: str, config: object, *, where: str) -> Any:
    """Follow `@config.a.b` through mapping keys or data attributes of the run config."""
    return follow_config_ref(check_config_ref(ref, where=where), ref, config, where=where)


class ConfigReader:
    """Follows checked references, remembering which config model classes declare which
    fields, so a run's reads skip pydantic's `model_fields` lookup (≈1 µs each).

    Only class facts are kept (a pydantic model's declared field names are fixed when
    its class is made), never a value: each read goes through the run's own config.
    Lives on one blueprint object; a race between threads only fills the same entry twice.
    """

    __slots__ = ("_fields",)

    def __init__(self) -> None:
        # Declared fields of config model classes met so far (not mappings: those are
        # read as mappings, as `_step` does).
        self._fields: dict[type, frozenset[str]] = {}

    def read(self, parts: tuple[str, ...], ref: str, config: object, where: str) -> Any:
        """What `follow_config_ref` returns, the same errors included."""
        value: Any = config
        fields = self._fields
        for part in parts:
            cls = type(value)
            known = fields.get(cls)
            if known is None:
                if isinstance(value, BaseModel) and not isinstance(value, Mapping):
                    fields[cls] = frozenset(cls.model_fields)
                value = _step(value, part, ref, where)
            elif part in known:
                value = getattr(value, part)
                if callable(value):
                    raise _not_data(ref, where)
            else:
                value = _step(value, part, ref, where)
        return value

    def args(self, slot: SlotRefs, config: object) -> dict[str, Any]:
        """The slot's arguments with its references read from `config`."""
        where = slot.where
        return {
            key: raw if parts is None else self.read(parts, raw, config, where)
            for key, parts, raw in slot.args
        }
