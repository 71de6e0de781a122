"""One sweep of backtests over one data set (a plain sweep, or one walk-forward window).

The definition hashed into the store's sweep key covers the space, constraint,
objective, search, base config and data fingerprints, so a rerun with any of
them changed is a different sweep, and a rerun with none changed resumes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from isoloop.data import MarketData
from isoloop.sweep.config import build_search
from isoloop.sweep.driver import ProgressFn, SweepOutcome, run_generic_sweep
from isoloop.sweep.executors.base import Executor
from isoloop.sweep.loading import LoadedSweep
from isoloop.sweep.trial import BacktestTrial, TrialBase

__all__ = ["sweep_backtests", "sweep_definition", "sweep_id"]


def sweep_definition(loaded: LoadedSweep, data_prints: Mapping[str, str]) -> dict[str, Any]:
    """What makes two sweeps the same sweep (for resume and the sweep id)."""
    cfg = loaded.config
    return {
        "space": cfg.space_mapping(),
        "constraint": cfg.constraint,
        **cfg.objective_definition(),
        "search": cfg.search.definition(),
        "base": loaded.base.model_dump(mode="json", by_alias=True),
        "data": dict(data_prints),
    }


def sweep_id(loaded: LoadedSweep, key: str) -> str:
    """`<name or strategy>-sweep-<first 12 hex of the sweep key>`."""
    label = loaded.base.name or loaded.base.strategy.class_path.rpartition(":")[2].lower()
    return f"{label}-sweep-{key[:12]}"


def sweep_backtests(
    loaded: LoadedSweep,
    data: MarketData,
    prints: Mapping[str, str],
    executor: Executor,
    store: Path | None,
    on_progress: ProgressFn | None,
    *,
    retry_failed: bool = False,
) -> SweepOutcome:
    """Run (or resume) the sweep's search on `data`, one `BacktestTrial` per point.

    With `retry_failed` a resumed sweep reruns the trials its store holds as failed
    (any status but `ok`) as well as the missing ones; `ok` trials are kept.
    """
    cfg = loaded.config
    objectives = cfg.objective_list()
    return run_generic_sweep(
        BacktestTrial(),
        data,
        search=build_search(cfg),
        executor=executor,
        definition=sweep_definition(loaded, prints),
        base_seed=loaded.base.seed,
        metric=objectives[0].name,
        direction=objectives[0].direction,
        objectives=objectives,
        store=store,
        context=TrialBase.of(
            loaded.base,
            prints,
            objectives=objectives,
            folder=loaded.folder,
            datasets=loaded.datasets,
        ),
        timeout_s=cfg.executor.trial_timeout,
        retries=cfg.executor.retries,
        max_in_flight=cfg.executor.max_in_flight,
        on_progress=on_progress,
        retry_failed=retry_failed,
    )
