"""Backtests: the bar loop (driver), one run from config, verify and validate."""

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
