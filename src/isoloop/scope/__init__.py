"""The DI core: shared services, blueprints, run scopes and their lifecycle."""

from isoloop.scope.blueprint import Blueprint, SlotPlan, SlotSpec, import_class, load_blueprint
from isoloop.scope.coordinator import ScopeCoordinator
from isoloop.scope.lifecycle import Health, HealthStatus, Lifecycle, ScopeState
from isoloop.scope.run_scope import RunScope
from isoloop.scope.shared import SharedServices, freeze
from isoloop.scope.teardown import StopOutcome, TeardownRunner

__all__ = [
    "Blueprint",
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
    "freeze",
    "import_class",
    "load_blueprint",
]
