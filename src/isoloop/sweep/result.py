"""What a sweep of backtests hands back: the trials table, counts, best trial, digest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from isoloop.sweep.driver import BestTrial

__all__ = ["SweepResult", "WalkForwardWindow"]


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

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape of `isoloop sweep`."""
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
        }
        return out
