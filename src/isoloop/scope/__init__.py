"""The DI core: shared services, blueprints, run scopes and their lifecycle.

Names load on first use (`isoloop.lazy`): the engine's modules import
`isoloop.scope.lifecycle`, and that must not load the coordinator and the run logger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from isoloop.lazy import lazy_exports

if TYPE_CHECKING:
    from isoloop.scope.blueprint import (
        Blueprint,
        SlotPlan,
        SlotSpec,
        import_class,
        load_blueprint,
    )
    from isoloop.scope.coordinator import ScopeCoordinator
    from isoloop.scope.lifecycle import (
        ComponentState,
        Health,
        HealthStatus,
        Lifecycle,
        ScopeState,
    )
    from isoloop.scope.run_scope import RunScope
    from isoloop.scope.shared import SharedServices, freeze
    from isoloop.scope.timed import CallOutcome, TimedCalls, call_with_timeout

    # The names these had before one helper bounded every call (starts, stops, hooks).
    StopOutcome = CallOutcome
    TeardownRunner = TimedCalls

__all__ = [
    "Blueprint",
    "CallOutcome",
    "ComponentState",
    "Health",
    "HealthStatus",
    "Lifecycle",
    "RunScope",
    "ScopeCoordinator",
    "ScopeState",
    "SharedServices",
    "SlotPlan",
    "SlotSpec",
    "StopOutcome",
    "TeardownRunner",
    "TimedCalls",
    "call_with_timeout",
    "freeze",
    "import_class",
    "load_blueprint",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Blueprint": "isoloop.scope.blueprint",
        "SlotPlan": "isoloop.scope.blueprint",
        "SlotSpec": "isoloop.scope.blueprint",
        "import_class": "isoloop.scope.blueprint",
        "load_blueprint": "isoloop.scope.blueprint",
        "ScopeCoordinator": "isoloop.scope.coordinator",
        "ComponentState": "isoloop.scope.lifecycle",
        "Health": "isoloop.scope.lifecycle",
        "HealthStatus": "isoloop.scope.lifecycle",
        "Lifecycle": "isoloop.scope.lifecycle",
        "ScopeState": "isoloop.scope.lifecycle",
        "RunScope": "isoloop.scope.run_scope",
        "SharedServices": "isoloop.scope.shared",
        "freeze": "isoloop.scope.shared",
        "CallOutcome": "isoloop.scope.timed",
        "TimedCalls": "isoloop.scope.timed",
        "call_with_timeout": "isoloop.scope.timed",
        "StopOutcome": "isoloop.scope.timed:CallOutcome",
        "TeardownRunner": "isoloop.scope.timed:TimedCalls",
    },
)
