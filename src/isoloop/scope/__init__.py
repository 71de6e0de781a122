"""The DI core: shared services, blueprints, run scopes and their lifecycle."""

from isoloop.scope.blueprint import Blueprint, SlotPlan, SlotSpec, import_class, load_blueprint
from isoloop.scope.coordinator import ScopeCoordinator
from isoloop.scope.lifecycle import ComponentState, Health, HealthStatus, Lifecycle, ScopeState
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
