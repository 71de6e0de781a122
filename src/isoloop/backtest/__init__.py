"""Backtests: the bar loop (driver), one run from config, verify and validate.

Names load on first use (`isoloop.lazy`): `isoloop validate` needs the checks, not the
run machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from isoloop.lazy import lazy_exports

if TYPE_CHECKING:
    from isoloop.backtest.driver import BacktestEngine, RunOutput
    from isoloop.backtest.run import BacktestCoordinator, BacktestResult, run_backtest
    from isoloop.backtest.validate import validate_run_config
    from isoloop.backtest.verify import VerifyOutcome, verify_run_dir

__all__ = [
    "BacktestCoordinator",
    "BacktestEngine",
    "BacktestResult",
    "RunOutput",
    "VerifyOutcome",
    "run_backtest",
    "validate_run_config",
    "verify_run_dir",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BacktestEngine": "isoloop.backtest.driver",
        "RunOutput": "isoloop.backtest.driver",
        "BacktestCoordinator": "isoloop.backtest.run",
        "BacktestResult": "isoloop.backtest.run",
        "run_backtest": "isoloop.backtest.run",
        "validate_run_config": "isoloop.backtest.validate",
        "VerifyOutcome": "isoloop.backtest.verify",
        "verify_run_dir": "isoloop.backtest.verify",
    },
)
