"""Parallel parameter sweeps: search spaces, safe constraints, executors, store, driver.

Generic over the trial function: `run_generic_sweep(fn, data, ...)` runs any
module-level `fn(spec, data, context)` and stores its stats per trial id.
"""

from isoloop.sweep.config import (
    ExecutorSettings,
    ObjectiveSettings,
    SearchSettings,
    SweepConfig,
    WalkForwardSettings,
    build_search,
)
from isoloop.sweep.constraint import Constraint, compile_constraint
from isoloop.sweep.driver import (
    BestTrial,
    ProgressFn,
    SweepDriver,
    SweepOutcome,
    run_generic_sweep,
    sweep_key,
)
from isoloop.sweep.executors import (
    EXECUTOR_KINDS,
    DataHandle,
    Executor,
    ExecutorError,
    InMemoryHandle,
    MemmapHandle,
    ProcessExecutor,
    SerialExecutor,
    ThreadExecutor,
    TrialFn,
    make_executor,
)
from isoloop.sweep.objective import Objective, ParetoTrial, pareto_front
from isoloop.sweep.optuna_search import OptunaSearch
from isoloop.sweep.search import GridSearch, RandomSearch
from isoloop.sweep.space import Dimension, SearchSpace
from isoloop.sweep.spec import (
    TrialOutput,
    TrialResult,
    TrialSpec,
    TrialStatus,
    trial_seed,
    worker_name,
)
from isoloop.sweep.store import SweepStore

__all__ = [
    "EXECUTOR_KINDS",
    "BestTrial",
    "Constraint",
    "DataHandle",
    "Dimension",
    "Executor",
    "ExecutorError",
    "ExecutorSettings",
    "GridSearch",
    "InMemoryHandle",
    "MemmapHandle",
    "Objective",
    "ObjectiveSettings",
    "OptunaSearch",
    "ParetoTrial",
    "ProcessExecutor",
    "ProgressFn",
    "RandomSearch",
    "SearchSettings",
    "SearchSpace",
    "SerialExecutor",
    "SweepConfig",
    "SweepDriver",
    "SweepOutcome",
    "SweepStore",
    "ThreadExecutor",
    "TrialFn",
    "TrialOutput",
    "TrialResult",
    "TrialSpec",
    "TrialStatus",
    "WalkForwardSettings",
    "build_search",
    "compile_constraint",
    "make_executor",
    "pareto_front",
    "run_generic_sweep",
    "sweep_key",
    "trial_seed",
    "worker_name",
]
