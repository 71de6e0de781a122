"""isoloop: isolated dependency-injection scopes for backtests, sweeps and live trading."""

from isoloop.config import RunConfig, load_run_config
from isoloop.errors import (
    BlueprintError,
    ConfigError,
    DataError,
    IsolationError,
    IsoloopError,
    ScopeError,
)
from isoloop.live import LiveTradingManager
from isoloop.runs.backtest import BacktestCoordinator, BacktestResult, run_backtest
from isoloop.runs.sweep_runner import OptimizationExecutor, SweepResult, run_sweep
from isoloop.scope import (
    Blueprint,
    Health,
    Lifecycle,
    RunScope,
    ScopeCoordinator,
    ScopeState,
    SharedServices,
    load_blueprint,
)

__version__ = "0.1.0"

__all__ = [
    "BacktestCoordinator",
    "BacktestResult",
    "Blueprint",
    "BlueprintError",
    "ConfigError",
    "DataError",
    "Health",
    "IsolationError",
    "IsoloopError",
    "Lifecycle",
    "LiveTradingManager",
    "OptimizationExecutor",
    "RunConfig",
    "RunScope",
    "ScopeCoordinator",
    "ScopeError",
    "ScopeState",
    "SharedServices",
    "SweepResult",
    "__version__",
    "load_blueprint",
    "load_run_config",
    "run_backtest",
    "run_sweep",
]
