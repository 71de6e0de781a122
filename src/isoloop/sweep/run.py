"""Running sweeps of backtests: `run_sweep` (one call, one executor) and `OptimizationExecutor`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from isoloop.data import MarketData
from isoloop.data.gaps import gap_warnings
from isoloop.errors import ConfigError
from isoloop.sweep.backtests import sweep_backtests, sweep_id
from isoloop.sweep.config import DATA_SOURCE_KEY, SweepConfig
from isoloop.sweep.datacache import DataCache, load_sweep_data
from isoloop.sweep.datasets import dataset_index, dataset_prints, dataset_slice
from isoloop.sweep.driver import BestTrial, ProgressFn
from isoloop.sweep.executors import Executor, make_executor
from isoloop.sweep.loading import LoadedSweep, load_sweep
from isoloop.sweep.optuna_storage import optuna_storage_path, study_mirror
from isoloop.sweep.result import SweepResult
from isoloop.sweep.trial import backtest_params
from isoloop.sweep.walkforward import run_walk_forward

__all__ = ["OptimizationExecutor", "run_sweep"]


def run_sweep(
    config: str | Path | Mapping[str, Any] | SweepConfig,
    *,
    on_progress: ProgressFn | None = None,
    executor: Executor | None = None,
    data_cache: DataCache | None = None,
    retry_failed: bool = False,
    **overrides: Any,
) -> SweepResult:
    """Run (or resume) a sweep; `overrides` use dotted keys (`**{"executor.kind": "thread"}`).

    A resumed sweep keeps every stored trial; with `retry_failed=True` it reruns the
    stored failed ones (status `error`, `timeout`, `crashed`, `memory`) and keeps the
    `ok` ones. A sweep whose every trial failed is returned, not raised: look at
    `result.all_failed` and `result.failures` (the CLI exits 1 on it).
    """
    loaded = load_sweep(config, overrides)
    cfg = loaded.config
    data, prints = load_sweep_data(loaded) if data_cache is None else data_cache.load(loaded)
    own = executor is None
    ex = executor or make_executor(
        cfg.executor.kind,
        workers=cfg.executor.workers,
        address=cfg.executor.address,
        memory_limit_mb=cfg.executor.memory_limit_mb,
        recycle_after=cfg.executor.recycle_after,
        trial_memory_mb=cfg.executor.trial_memory_mb,
    )
    store = Path(cfg.store) if cfg.store else None
    mirror = study_mirror(loaded, prints, store)
    progress = on_progress if mirror is None else mirror.progress(on_progress)
    try:
        if cfg.walk_forward is not None:
            if retry_failed:
                raise ConfigError(
                    f"{loaded.source}: retry_failed is not supported with walk_forward; "
                    "delete the window stores of the failed windows to rerun them"
                )
            return run_walk_forward(loaded, data, prints, ex, store, on_progress)
        outcome = sweep_backtests(
            loaded, data, prints, ex, store, progress, retry_failed=retry_failed
        )
    finally:
        if own:
            ex.close()
    if mirror is not None:  # optuna.load_study / optuna-dashboard open the sweep's study
        mirror.save()
    best = outcome.best
    return SweepResult(
        sweep_id=sweep_id(loaded, outcome.sweep_key),
        trials=outcome.trials,
        total=outcome.total,
        done=outcome.done,
        failed=outcome.failed,
        best=outcome.best,
        digest=outcome.sweep_digest,
        store=store,
        resumed=outcome.resumed,
        executed=outcome.executed,
        best_equity_fn=(lambda: _best_equity(loaded, best, data, prints)) if best else None,
        metric=outcome.objectives[0].name,
        objectives=outcome.objectives,
        pareto_trials=outcome.pareto,
        data_warnings=tuple(gap_warnings(data)),
        optuna_storage=None if mirror is None or store is None else optuna_storage_path(store),
    )


def _best_equity(
    loaded: LoadedSweep, best: BestTrial, data: MarketData, prints: Mapping[str, str]
) -> pd.Series:
    """The best trial's equity curve, re-run in the driver (a report wants it)."""
    params = dict(best.params)
    if loaded.datasets:  # on its own data set, resolved as its trial's was
        index = dataset_index(loaded.datasets, params[DATA_SOURCE_KEY])
        params[DATA_SOURCE_KEY] = loaded.datasets[index][1]
        data, prints = dataset_slice(data, index), dataset_prints(prints, index)
    return backtest_params(loaded.base, params, data, prints, f"best-{best.trial_id}").equity


class OptimizationExecutor:
    """Runs sweeps of backtests on one executor whose workers live across sweeps.

    `run_sweep` builds (and closes) an executor from the config each call; this
    keeps one — e.g. a process pool whose workers already imported everything —
    for many sweeps. The executor settings of the configs it runs are ignored.
    """

    def __init__(
        self,
        kind: str = "process",
        *,
        workers: int = 2,
        address: str | None = None,
        memory_limit_mb: float | None = None,
        recycle_after: int | None = None,
        trial_memory_mb: float | None = None,
    ) -> None:
        self.kind = kind
        self._data = DataCache()
        self._executor = make_executor(
            kind,
            workers=workers,
            address=address,
            memory_limit_mb=memory_limit_mb,
            recycle_after=recycle_after,
            trial_memory_mb=trial_memory_mb,
        )

    def run(
        self,
        config: str | Path | Mapping[str, Any] | SweepConfig,
        *,
        on_progress: ProgressFn | None = None,
        retry_failed: bool = False,
        **overrides: Any,
    ) -> SweepResult:
        """`run_sweep` on this executor (`retry_failed` reruns a store's failed trials)."""
        return run_sweep(
            config,
            on_progress=on_progress,
            executor=self._executor,
            data_cache=self._data,
            retry_failed=retry_failed,
            **overrides,
        )

    def close(self) -> None:
        self._executor.close()

    def __enter__(self) -> OptimizationExecutor:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
