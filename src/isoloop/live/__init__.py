"""Live and paper trading: one isolated, long-lived container per strategy under a supervisor.

The names below are imported on first use (PEP 562 module `__getattr__`): a
control action (`isoloop live status`) needs the HTTP client and nothing of the
manager, feeds or pandas, and importing `isoloop.live.control.client` must not
pay for them through this package's `__init__`.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from isoloop.engine.risk import KillSwitchReason
    from isoloop.errors import (
        ControlError,
        CredentialsError,
        LiveError,
        RecoverableError,
        StartupReconciliationError,
    )
    from isoloop.live.config import (
        ApiConfig,
        FeedConfig,
        LiveConfig,
        LiveStrategyConfig,
        RestartPolicy,
        ShutdownConfig,
        load_live_config,
    )
    from isoloop.live.control.api import ControlServer, load_token
    from isoloop.live.control.client import ControlClient
    from isoloop.live.export import (
        EXPORT_EVERY,
        EXPORT_FILES,
        ExportSummary,
        export_account,
        export_session,
    )
    from isoloop.live.feed import BarGate, FeedBar, Inbox, ReplayFeed
    from isoloop.live.hooks import HOOK_EVENTS, HookDispatcher, HookEvent
    from isoloop.live.manager import LiveTradingManager
    from isoloop.live.preflight import check_exchange_credentials
    from isoloop.live.replay import ReplayOutcome, ReplayReport, replay_session, replay_strategy
    from isoloop.live.router import OrderRouter
    from isoloop.live.runner import RunContainer, is_recoverable
    from isoloop.live.slots.credentials import (
        ExchangeCredentials,
        StrategyCredentials,
        VenueCredentials,
        credential_env_name,
        is_placeholder,
    )
    from isoloop.live.slots.engine import LiveEngine
    from isoloop.live.slots.paper import PaperVenue
    from isoloop.live.slots.store import (
        AccountStore,
        read_account_rows,
        read_kill_audit,
        store_path,
    )
    from isoloop.live.supervisor import Supervisor
    from isoloop.live.validate import validate_live_config_file
    from isoloop.scope.timed import call_with_timeout

__all__ = [
    "EXPORT_EVERY",
    "EXPORT_FILES",
    "HOOK_EVENTS",
    "AccountStore",
    "ApiConfig",
    "BarGate",
    "ControlClient",
    "ControlError",
    "ControlServer",
    "CredentialsError",
    "ExchangeCredentials",
    "ExportSummary",
    "FeedBar",
    "FeedConfig",
    "HookDispatcher",
    "HookEvent",
    "Inbox",
    "KillSwitchReason",
    "LiveConfig",
    "LiveEngine",
    "LiveError",
    "LiveStrategyConfig",
    "LiveTradingManager",
    "OrderRouter",
    "PaperVenue",
    "RecoverableError",
    "ReplayFeed",
    "ReplayOutcome",
    "ReplayReport",
    "RestartPolicy",
    "RunContainer",
    "ShutdownConfig",
    "StartupReconciliationError",
    "StrategyCredentials",
    "Supervisor",
    "VenueCredentials",
    "call_with_timeout",
    "check_exchange_credentials",
    "credential_env_name",
    "export_account",
    "export_session",
    "is_placeholder",
    "is_recoverable",
    "load_live_config",
    "load_token",
    "read_account_rows",
    "read_kill_audit",
    "replay_session",
    "replay_strategy",
    "store_path",
    "validate_live_config_file",
]

# Public name -> the module that defines it (imported when the name is first read).
_LAZY = MappingProxyType(
    {
        "EXPORT_EVERY": "isoloop.live.export",
        "EXPORT_FILES": "isoloop.live.export",
        "ExportSummary": "isoloop.live.export",
        "export_account": "isoloop.live.export",
        "export_session": "isoloop.live.export",
        "ReplayOutcome": "isoloop.live.replay",
        "ReplayReport": "isoloop.live.replay",
        "replay_session": "isoloop.live.replay",
        "replay_strategy": "isoloop.live.replay",
        "KillSwitchReason": "isoloop.engine.risk",
        "ControlError": "isoloop.errors",
        "CredentialsError": "isoloop.errors",
        "LiveError": "isoloop.errors",
        "RecoverableError": "isoloop.errors",
        "StartupReconciliationError": "isoloop.errors",
        "ApiConfig": "isoloop.live.config",
        "FeedConfig": "isoloop.live.config",
        "LiveConfig": "isoloop.live.config",
        "LiveStrategyConfig": "isoloop.live.config",
        "RestartPolicy": "isoloop.live.config",
        "ShutdownConfig": "isoloop.live.config",
        "load_live_config": "isoloop.live.config",
        "ControlServer": "isoloop.live.control.api",
        "load_token": "isoloop.live.control.api",
        "ControlClient": "isoloop.live.control.client",
        "BarGate": "isoloop.live.feed",
        "FeedBar": "isoloop.live.feed",
        "Inbox": "isoloop.live.feed",
        "ReplayFeed": "isoloop.live.feed",
        "HOOK_EVENTS": "isoloop.live.hooks",
        "HookDispatcher": "isoloop.live.hooks",
        "HookEvent": "isoloop.live.hooks",
        "LiveTradingManager": "isoloop.live.manager",
        "OrderRouter": "isoloop.live.router",
        "RunContainer": "isoloop.live.runner",
        "is_recoverable": "isoloop.live.runner",
        "check_exchange_credentials": "isoloop.live.preflight",
        "ExchangeCredentials": "isoloop.live.slots.credentials",
        "StrategyCredentials": "isoloop.live.slots.credentials",
        "VenueCredentials": "isoloop.live.slots.credentials",
        "credential_env_name": "isoloop.live.slots.credentials",
        "is_placeholder": "isoloop.live.slots.credentials",
        "LiveEngine": "isoloop.live.slots.engine",
        "PaperVenue": "isoloop.live.slots.paper",
        "AccountStore": "isoloop.live.slots.store",
        "read_account_rows": "isoloop.live.slots.store",
        "read_kill_audit": "isoloop.live.slots.store",
        "store_path": "isoloop.live.slots.store",
        "Supervisor": "isoloop.live.supervisor",
        "validate_live_config_file": "isoloop.live.validate",
        "call_with_timeout": "isoloop.scope.timed",
    }
)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'isoloop.live' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
