"""The sweep-of-backtests API under its historical import path (`isoloop.sweep.runner`).

The code lives in modules named for their job: `loading` (sweep config and
base config), `trial` (the trial function), `backtests` (one sweep over one data
set), `walkforward`, `datacache`, `run` (`run_sweep`, `OptimizationExecutor`),
`result`, `outputs` and `validate`. This module only re-exports their public
names so that existing imports keep working.
"""

from __future__ import annotations

from isoloop.sweep.loading import LoadedSweep, load_sweep, trial_overrides
from isoloop.sweep.outputs import write_sweep_outputs
from isoloop.sweep.result import SweepResult, WalkForwardWindow
from isoloop.sweep.run import OptimizationExecutor, run_sweep
from isoloop.sweep.trial import BacktestTrial, TrialBase
from isoloop.sweep.validate import validate_sweep_file

__all__ = [
    "BacktestTrial",
    "LoadedSweep",
    "OptimizationExecutor",
    "SweepResult",
    "TrialBase",
    "WalkForwardWindow",
    "load_sweep",
    "run_sweep",
    "trial_overrides",
    "validate_sweep_file",
    "write_sweep_outputs",
]
