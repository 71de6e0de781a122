"""The engine's slot roles: what each slot of a run container must be able to do.

The kernel (`isoloop.scope.roles`) checks a slot's class against its role before
anything is built; the tables live here because the engine owns these parts.
A role lists the methods the rest of the engine calls on the slot (a structural
check, like a `Protocol`), or the base class the slot must derive from (the
strategy). A run kind passes its table to its `ScopeCoordinator(roles=…)`.

`check_strategy_params` is `validate`'s way to check strategy parameters without
building a strategy: it calls the class's `validate_params` only when that is a
class-level hook (a classmethod or staticmethod).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from isoloop.engine.strategy import Strategy
from isoloop.engine.venue import Venue
from isoloop.scope.roles import COMPONENT, Role, SlotRoles, protocol_methods

__all__ = [
    "BACKTEST_ROLES",
    "ENGINE_ROLES",
    "LIVE_ROLES",
    "check_strategy_params",
    "has_class_param_check",
]

_VENUE = Role(
    "venue",
    "an isoloop.engine.venue.Venue (the venue protocol)",
    methods=protocol_methods(Venue),
)


def _role(name: str, what: str, *methods: str) -> Role:
    return Role(name, f"{what} with {', '.join(f'{m}()' for m in methods)}", methods=methods)


# The slots every run kind shares (backtest, sweep trial, paper and live containers).
ENGINE_ROLES: tuple[Role, ...] = (
    _role("clock", "a clock", "now"),
    _role("bus", "an event bus", "publish", "wants"),
    _VENUE,
    _role("positions", "a position monitor", "position", "equity", "apply", "venue_positions"),
    _role("venues", "a venue interface manager", "get", "find", "route_to_venue"),
    _role("position_updates", "a position update handler", "update_state", "reconcile"),
    _role("risk", "a risk manager", "pre_trade"),
    _role("execution", "an execution manager", "submit", "cancel", "process_bar"),
    Role(
        "strategy",
        "a subclass of isoloop.engine.strategy.Strategy",
        base=Strategy,
    ),
)

BACKTEST_ROLES = SlotRoles(
    "backtest",
    (*ENGINE_ROLES, _role("engine", "a backtest driver", "run")),
    extra=COMPONENT,
)

# For the live manager's containers (paper and live blueprints).
LIVE_ROLES = SlotRoles(
    "live",
    (
        *ENGINE_ROLES,
        _role("engine", "a live driver", "step"),
        _role("store", "an account store", "load_account", "write_account"),
        _role("credentials", "a credentials holder", "get", "secret_values"),
    ),
    extra=COMPONENT,
)


def has_class_param_check(cls: type) -> bool:
    """Whether `cls.validate_params` can run without an instance (classmethod/staticmethod)."""
    hook = inspect.getattr_static(cls, "validate_params", None)
    return isinstance(hook, classmethod | staticmethod)


def check_strategy_params(cls: type, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """Run the strategy's class-level parameter check; None when it has none.

    This calls user code (the strategy's own `validate_params`) but builds no
    strategy and no other component. An instance-method `validate_params` is left
    to the run, which calls it when it builds the strategy.
    """
    if not has_class_param_check(cls):
        return None
    checked: dict[str, Any] = cls.validate_params(dict(params))  # type: ignore[attr-defined]
    return checked
