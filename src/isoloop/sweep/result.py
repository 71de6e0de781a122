"""What a sweep of backtests hands back: the trials table, counts, best trial, digest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from isoloop.errors import ConfigError
from isoloop.sweep.driver import BestTrial
from isoloop.sweep.objective import Objective, ParetoTrial
from isoloop.sweep.spec import TRIAL_STATUSES

__all__ = ["FailureKind", "SweepResult", "WalkForwardWindow", "failures_of"]


@dataclass(frozen=True)
class FailureKind:
    """The failed trials of one status: how many, and the first one's (lowest id) error."""

    status: str
    count: int
    first_trial: int
    first_error: str

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "first": self.first_error, "first_trial": self.first_trial}


def failures_of(trials: pd.DataFrame) -> dict[str, FailureKind]:
    """Failed trials by status (`error`, `timeout`, `crashed`, `memory`), in that order."""
    if trials.empty or "status" not in trials.columns:
        return {}
    out: dict[str, FailureKind] = {}
    for status in TRIAL_STATUSES[1:]:
        rows = trials[trials["status"] == status]
        if rows.empty:
            continue
        first = rows.sort_values("trial_id").iloc[0]
        error = first.get("error")
        text = " ".join(str(error).split()) if isinstance(error, str) and error else "(no message)"
        out[status] = FailureKind(status, len(rows), int(first["trial_id"]), text)
    return out


@dataclass(frozen=True)
class WalkForwardWindow:
    """One train/test window of a walk-forward run and its out-of-sample result."""

    window: int
    train: tuple[str, str]
    test: tuple[str, str]
    best_params: dict[str, Any]
    train_value: float | None
    test_stats: dict[str, float]
    test_digest: str


@dataclass(frozen=True, eq=False)
class SweepResult:
    """A finished sweep: every trial (sorted by id), counts, best, digest."""

    sweep_id: str
    trials: pd.DataFrame
    total: int
    done: int
    failed: int
    best: BestTrial | None
    digest: str
    store: Path | None
    resumed: int = 0
    executed: int = 0
    windows: list[WalkForwardWindow] = field(default_factory=list)
    oos_equity: pd.Series | None = None
    report: Path | None = None
    # The objective's stats key (a warning says when every trial scored the same).
    metric: str | None = None
    # Every objective (the first ranks `best`) and the trials on their Pareto front.
    objectives: tuple[Objective, ...] = ()
    pareto_trials: tuple[ParetoTrial, ...] = ()
    # Found in the sweep's data before it ran (gaps: isoloop.data.gaps).
    data_warnings: tuple[str, ...] = ()
    # An optuna sweep's study file (optuna-dashboard / optuna.load_study open it).
    optuna_storage: Path | None = None
    # The best trial's equity curve is re-run on first use (a report needs it, a
    # caller that only wants the table does not pay for it).
    best_equity_fn: Callable[[], pd.Series] | None = field(default=None, repr=False)
    _cache: dict[str, pd.Series] = field(default_factory=dict, repr=False)

    @property
    def best_equity(self) -> pd.Series | None:
        """The best trial's equity curve (computed once, on first access)."""
        if self.best_equity_fn is None:
            return None
        if "best" not in self._cache:
            self._cache["best"] = self.best_equity_fn()
        return self._cache["best"]

    @property
    def pareto(self) -> pd.DataFrame:
        """The trials no other ok trial beats on every objective, sorted by trial id.

        With one objective: the trials with the best value. Rows of `trials`.
        """
        if "pareto" not in self.trials.columns:
            return self.trials.iloc[0:0]
        return self.trials[self.trials["pareto"].astype(bool)].reset_index(drop=True)

    def heatmap(self, x: str, y: str, *, stat: str | None = None, agg: str = "max") -> pd.DataFrame:
        """`stat` (default: the first objective) of the ok trials, aggregated over every
        other parameter, with `x`'s values as rows and `y`'s as columns.

        The shape of backtesting.py's `heatmap.groupby([x, y]).agg(agg).unstack()`;
        `agg` is any pandas aggregation name ("max", "mean", "median", ...).
        """
        column = stat or self.metric
        names = {x: self._param_column(x), y: self._param_column(y)}
        if column is None or column not in self.trials.columns:
            known = [c for c in self.trials.columns if not str(c).startswith("param.")]
            raise ConfigError(
                f"heatmap: stat {column!r} is not a column of the trials; use one of "
                f"{', '.join(map(str, known))}"
            )
        ok = self.trials[self.trials["status"] == "ok"]
        frame = ok[[names[x], names[y], column]].rename(columns={names[x]: x, names[y]: y})
        grid = frame.groupby([x, y])[column].agg(agg).unstack()
        grid.columns.name = y
        return grid

    def _param_column(self, name: str) -> str:
        for column in (f"param.{name}", name):
            if column.startswith("param.") and column in self.trials.columns:
                return column
        params = [c.removeprefix("param.") for c in self.trials.columns if c.startswith("param.")]
        raise ConfigError(
            f"heatmap: {name!r} is not a parameter of this sweep; use one of {', '.join(params)}"
        )

    @property
    def all_failed(self) -> bool:
        """Every finished trial failed (and at least one finished): the sweep failed."""
        return self.done > 0 and self.failed == self.done

    @property
    def failures(self) -> dict[str, FailureKind]:
        """Failed trials by status, each with its count and the first trial's error."""
        return failures_of(self.trials)

    @property
    def warnings(self) -> list[str]:
        """What finished but deserves a look: data gaps, every trial scoring the same."""
        found: list[str] = list(self.data_warnings)
        metric = self.metric
        if metric is None or "status" not in self.trials.columns:
            return found
        ok = self.trials[self.trials["status"] == "ok"]
        if len(ok) >= 2 and metric in ok.columns:
            values = ok[metric]
            if values.isna().all() or (values.notna().all() and values.nunique() == 1):
                shown = "undefined" if values.isna().all() else f"{float(values.iloc[0]):g}"
                found.append(
                    f"all {len(ok)} ok trials have an equal objective ({metric} = {shown}): "
                    "the parameters made no difference to it; check the space or the metric"
                )
        return found

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape of `isoloop sweep` (plus `failures`, `warnings`, `store`)."""
        best = (
            None
            if self.best is None
            else {"params": dict(self.best.params), "stats": dict(self.best.stats)}
        )
        out: dict[str, Any] = {
            "sweep_id": self.sweep_id,
            "trials_total": self.total,
            "trials_done": self.done,
            "trials_failed": self.failed,
            "best": best,
            "digest": self.digest,
            "failures": {k: f.to_json() for k, f in self.failures.items()},
            "warnings": self.warnings,
            "store": None if self.store is None else str(self.store),
            "optuna_storage": None if self.optuna_storage is None else str(self.optuna_storage),
            "objectives": [
                {"name": o.name, "direction": o.direction, "function": o.function}
                for o in self.objectives
            ],
            "pareto": [p.to_json() for p in self.pareto_trials],
        }
        return out
