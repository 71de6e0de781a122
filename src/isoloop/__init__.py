"""isoloop: isolated dependency-injection scopes for backtests, sweeps and live trading.

`import isoloop` stays light: the public names below are imported on first use
(PEP 562 module `__getattr__`), so the CLI and a worker process that needs one
part do not pay for pandas, the sweep backends, optuna, plotly or the live stack.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from isoloop.errors import (
    BlueprintError,
    ConfigError,
    DataError,
    IsolationError,
    IsoloopError,
    ScopeError,
)

if TYPE_CHECKING:
    from isoloop.backtest.run import BacktestCoordinator, BacktestResult, run_backtest
    from isoloop.config import RunConfig, load_run_config
    from isoloop.live import LiveTradingManager
    from isoloop.notebook import Backtest
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

    __version__: str

__all__ = [
    "Backtest",
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

# Public name -> the module that defines it (imported when the name is first read).
_LAZY = MappingProxyType(
    {
        "Backtest": "isoloop.notebook",
        "BacktestCoordinator": "isoloop.backtest.run",
        "BacktestResult": "isoloop.backtest.run",
        "run_backtest": "isoloop.backtest.run",
        "RunConfig": "isoloop.config",
        "load_run_config": "isoloop.config",
        "LiveTradingManager": "isoloop.live",
        "Blueprint": "isoloop.scope",
        "Health": "isoloop.scope",
        "Lifecycle": "isoloop.scope",
        "RunScope": "isoloop.scope",
        "ScopeCoordinator": "isoloop.scope",
        "ScopeState": "isoloop.scope",
        "SharedServices": "isoloop.scope",
        "load_blueprint": "isoloop.scope",
        "OptimizationExecutor": "isoloop.sweep.runner",
        "SweepResult": "isoloop.sweep.runner",
        "run_sweep": "isoloop.sweep.runner",
    }
)


def _version() -> str:
    """The installed distribution's version: `[project].version` is its one source."""
    from importlib import metadata

    try:
        return metadata.version("isoloop")
    except metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'isoloop' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
