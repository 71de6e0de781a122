"""isoloop: isolated dependency-injection scopes for backtests, sweeps and live trading."""

from isoloop.backtest.run import BacktestCoordinator, BacktestResult, run_backtest
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
from isoloop.sweep.runner import OptimizationExecutor, SweepResult, run_sweep

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
