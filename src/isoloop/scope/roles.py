"""What a slot accepts: the class behind it is checked before anything is built.

A class path in a blueprint is a code reference the user trusts, like an entry
point — but a slot takes only a class that can play the slot's part. Two checks,
both on the class object (no instance is made, no method is called):

- always, for every blueprint: the class is no standard-library or builtin class
  (`subprocess:Popen`, `io:FileIO`, `threading:Thread` … are never components)
  and its name is public;
- when the run kind passes a role table (`SlotRoles`): the slot's role — written
  as `role:` in the blueprint, else the slot's name, else the part of the name
  after an underscore (`hedge_venue` → `venue`) — names the methods or the base
  class the class must have. A slot that fills no role of the table takes the
  table's `extra` role (by default: a component with `start()`, `stop()` or
  `health()`), or is refused when `extra` is None.

The kernel owns the mechanism; the tables are data the run kinds pass down
(`isoloop.engine.roles`), so the kernel imports nothing of the engine.
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass
from typing import Any

from isoloop.errors import BlueprintError

__all__ = [
    "COMPONENT",
    "Role",
    "SlotRoles",
    "check_slot_class",
    "protocol_methods",
]


def protocol_methods(protocol: type) -> tuple[str, ...]:
    """The public methods a `Protocol` (or any class) defines itself, sorted."""
    return tuple(
        sorted(
            name
            for name, value in vars(protocol).items()
            if not name.startswith("_") and inspect.isfunction(value)
        )
    )


def _has_method(cls: type, name: str) -> bool:
    # getattr_static runs no descriptor and no metaclass `__getattr__`: no user code.
    attr = inspect.getattr_static(cls, name, None)
    if attr is None:
        return False
    return isinstance(attr, staticmethod | classmethod | property) or callable(attr)


@dataclass(frozen=True, slots=True)
class Role:
    """A slot's part: the methods (all of `methods`, one of `any_of`) or the base it needs."""

    name: str
    needs: str  # for messages: "an isoloop.engine.venue.Venue", "a component with start() …"
    methods: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    base: type | None = None

    def problem(self, cls: type) -> str | None:
        """Why `cls` cannot play this role, or None when it can."""
        if self.base is not None and not issubclass(cls, self.base):
            return f"is no subclass of {self.base.__module__}.{self.base.__qualname__}"
        missing = [m for m in self.methods if not _has_method(cls, m)]
        if missing:
            return f"lacks {', '.join(f'{m}()' for m in missing)}"
        if self.any_of and not any(_has_method(cls, m) for m in self.any_of):
            return f"has none of {', '.join(f'{m}()' for m in self.any_of)}"
        return None


COMPONENT = Role(
    "component",
    "a component class with start(), stop() or health()",
    any_of=("start", "stop", "health"),
)


@dataclass(frozen=True, slots=True)
class SlotRoles:
    """A run kind's role table: which role each slot plays and what that role needs."""

    kind: str  # "backtest", "live" … (for messages)
    roles: tuple[Role, ...]
    extra: Role | None = COMPONENT  # for slots that fill no role; None refuses them

    def get(self, name: str) -> Role | None:
        for role in self.roles:
            if role.name == name:
                return role
        return None

    def role_for(self, slot: str, declared: str | None, where: str) -> Role | None:
        """The role of `slot`: as declared, else by its name, else `extra`."""
        if declared is not None:
            role = self.get(declared)
            if role is None:
                raise BlueprintError(
                    f"{where}: role {declared!r} is not a role of a {self.kind} container; "
                    f"roles: {', '.join(r.name for r in self.roles)}"
                )
            return role
        role = self.get(slot)
        if role is not None:
            return role
        # `hedge_venue` plays `venue`: the longest suffix after an underscore that is a role.
        for i, char in enumerate(slot):
            if char == "_" and (role := self.get(slot[i + 1 :])) is not None:
                return role
        return self.extra


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_stdlib(module: str) -> bool:
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names


def check_slot_class(
    cls: Any, *, slot: str, where: str, roles: SlotRoles | None, declared: str | None = None
) -> None:
    """Refuse `cls` for `slot` unless it can fill the slot; raises a one-line `BlueprintError`."""
    role = roles.role_for(slot, declared, where) if roles is not None else None
    if roles is not None and role is None:
        known = ", ".join(r.name for r in roles.roles)
        raise BlueprintError(
            f"{where}: a {roles.kind} container has no slot {slot!r}; name a slot after a "
            f"role ({known}) or declare one with `role:`"
        )
    needs = f"; slot {slot!r} needs {role.needs}" if role is not None else ""
    if not isinstance(cls, type):
        raise BlueprintError(f"{where}: {cls!r} is not a class{needs}")
    if cls.__qualname__.startswith("_"):
        raise BlueprintError(f"{where}: {_class_name(cls)} is a private class{needs}")
    if _is_stdlib(cls.__module__):
        raise BlueprintError(
            f"{where}: {_class_name(cls)} is a standard-library class, never a component; "
            f"name a class of isoloop or of your own package{needs}"
        )
    if role is not None:
        problem = role.problem(cls)
        if problem is not None:
            raise BlueprintError(f"{where}: {_class_name(cls)} {problem}{needs}")
