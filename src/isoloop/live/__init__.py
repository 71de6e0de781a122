"""Live and paper trading: one isolated, long-lived container per strategy under a supervisor."""

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
from isoloop.live.feed import BarGate, FeedBar, Inbox, ReplayFeed
from isoloop.live.hooks import HOOK_EVENTS, HookDispatcher, HookEvent
from isoloop.live.manager import LiveTradingManager
from isoloop.live.router import OrderRouter
from isoloop.live.runner import RunContainer, is_recoverable
from isoloop.live.slots.credentials import (
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
from isoloop.scope.timed import call_with_timeout  # the kernel's bounded call, as before

__all__ = [
    "HOOK_EVENTS",
    "AccountStore",
    "ApiConfig",
    "BarGate",
    "ControlClient",
    "ControlError",
    "ControlServer",
    "CredentialsError",
    "FeedBar",
    "FeedConfig",
    "HookDispatcher",
    "HookEvent",
    "Inbox",
    "LiveConfig",
    "LiveEngine",
    "LiveError",
    "LiveStrategyConfig",
    "LiveTradingManager",
    "OrderRouter",
    "PaperVenue",
    "RecoverableError",
    "ReplayFeed",
    "RestartPolicy",
    "RunContainer",
    "ShutdownConfig",
    "StartupReconciliationError",
    "StrategyCredentials",
    "Supervisor",
    "VenueCredentials",
    "call_with_timeout",
    "credential_env_name",
    "is_placeholder",
    "is_recoverable",
    "load_live_config",
    "load_token",
    "read_account_rows",
    "read_kill_audit",
    "store_path",
    "validate_live_config_file",
]
