"""backtesting.py's `Backtest(data, Strategy, cash=…, commission=…).run(**params)` on isoloop.

Nothing here simulates: the settings become isoloop run settings and every
`.run()` is one `isoloop.Backtest` run in a fresh, isolated run scope (the same
digest as the CLI for the same bars and settings); `.optimize()` is an isoloop
sweep; `.plot()` writes isoloop's HTML report.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from isoloop.compat.backtesting._optimize import optimize_settings, scores
from isoloop.compat.backtesting._stats import RunStrategy, labelled_stats
from isoloop.compat.backtesting._strategy import Strategy
from isoloop.errors import ConfigError
from isoloop.notebook import Backtest as NotebookBacktest
from isoloop.notebook import NotebookResult, Report

__all__ = ["Backtest"]


class Backtest:
    """Run a `isoloop.compat.backtesting.Strategy` over a DataFrame of OHLCV bars.

    The keyword arguments are backtesting.py's, with its defaults (notably
    `finalize_trades=False`: trades still open at the end stay open and out of
    the trade statistics). Any other keyword is an `isoloop.Backtest` setting
    (`seed=`, `risk={...}`, `symbol=`, …).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        strategy: type[Strategy],
        *,
        cash: float = 10_000,
        spread: float = 0.0,
        commission: Any = 0.0,
        margin: float = 1.0,
        trade_on_close: bool = False,
        hedging: bool = False,
        exclusive_orders: bool = False,
        finalize_trades: bool = False,
        **settings: Any,
    ) -> None:
        if not (isinstance(strategy, type) and issubclass(strategy, Strategy)):
            hint = ""
            if isinstance(strategy, type) and strategy.__module__.split(".")[0] != "isoloop":
                hint = (
                    "; if it subclasses backtesting.Strategy, import Strategy from "
                    "isoloop.compat.backtesting instead"
                )
            raise ConfigError(
                f"Backtest: strategy must be a subclass of isoloop.compat.backtesting.Strategy, "
                f"got {strategy!r}{hint}"
            )
        self._strategy = strategy
        # isoloop keeps times in UTC; results are shown back in the data's own zone.
        self._tz = getattr(getattr(data, "index", None), "tz", None)
        if isinstance(data, pd.DataFrame) and "volume" not in {str(c).lower() for c in data}:
            # backtesting.py lets Volume be left out; isoloop's bars need it (0: unknown).
            data = data.assign(Volume=0.0)
        # isoloop.Backtest takes backtesting.py's commission forms: a rate, (fixed,
        # relative), or a module-level function f(size, price).
        venue: dict[str, Any] = {"cash": cash, "spread": spread, "commission": commission}
        # Only what differs from the defaults, so the run's config reads like a native one.
        if margin != 1:
            venue["margin"] = margin
        if hedging:
            venue["hedging"] = True
        if exclusive_orders:
            venue["exclusive_orders"] = True
        if trade_on_close:
            venue["fill"] = "close"
        self._finalize = bool(finalize_trades)
        settings.setdefault("finalize_trades", self._finalize)
        self._bt = NotebookBacktest(data, strategy, **venue, **settings)
        self._results: pd.Series | None = None
        self._last: NotebookResult | None = None

    @property
    def result(self) -> NotebookResult | None:
        """The last `.run()` as isoloop reports it (`.digest`, `.stats`, `.trades`, …)."""
        return self._last

    @property
    def native(self) -> NotebookBacktest:
        """The `isoloop.Backtest` underneath (digests, sweep configs, native results)."""
        return self._bt

    def run(self, **params: Any) -> pd.Series:
        """One backtest with these strategy parameters (class attributes otherwise)."""
        result = self._bt.run(**params)
        self._last = result
        res = result.result
        self._results = labelled_stats(
            res.stats, res.equity, res.trades, RunStrategy(self._strategy, params), self._tz
        )
        return self._results

    def optimize(
        self,
        *,
        maximize: str | Callable[[pd.Series], float] = "SQN",
        method: str = "grid",
        max_tries: int | float | None = None,
        constraint: str | Callable[..., Any] | None = None,
        return_heatmap: bool = False,
        return_optimization: bool = False,
        random_state: int | None = None,
        executor: str = "serial",
        workers: int = 2,
        **space: Any,
    ) -> Any:
        """A sweep over `space`; returns the best run's stats (and the heatmap if asked).

        `maximize` is a backtesting.py label ("SQN", "Equity Final [$]"), an isoloop
        stats key, or (grid only) a function of a run's labelled stats. `constraint`
        is a function of the parameters written as one expression (`lambda p: p.n1
        < p.n2`) or isoloop's expression string. Like backtesting.py, a run without
        trades scores NaN and the best is the first highest score in grid order. The
        sweep runs on isoloop's executors (`executor="process"` for several cores).
        """
        if return_optimization:
            raise ConfigError(
                "Backtest.optimize: return_optimization=True is backtesting.py's SAMBO "
                "result object; isoloop has none (use method='grid' or the native "
                "isoloop.Backtest.optimize result)"
            )
        kwargs, metric = optimize_settings(
            space,
            maximize=maximize,
            method=method,
            max_tries=max_tries,
            constraint=constraint,
            random_state=random_state,
        )
        sweep = self._bt.optimize(executor=executor, workers=workers, **kwargs)
        heatmap = scores(sweep.trials, list(space), maximize, metric)
        if heatmap.empty:
            raise ConfigError(
                "Backtest.optimize: no trial finished (every parameter combination failed "
                "or was excluded by the constraint)"
            )
        # No run traded: show the first one, as backtesting.py does.
        at = 0 if heatmap.isna().all() else int(np.nanargmax(heatmap.to_numpy()))
        best = heatmap.index.to_list()[at]
        stats = self.run(**{str(k): v for k, v in zip(heatmap.index.names, best, strict=True)})
        return (stats, heatmap) if return_heatmap else stats

    def plot(
        self, *, results: pd.Series | None = None, filename: str | None = None, **_ignored: Any
    ) -> Report:
        """isoloop's HTML report of the last run (runs with default parameters if none)."""
        if results is not None and results is not self._results:
            strategy = results.get("_strategy")
            params = strategy.params if isinstance(strategy, RunStrategy) else {}
            self.run(**params)
        last = self._last
        if last is None:
            self.run()
            last = self._last
        if last is None:  # run() always sets it; this only narrows the type
            raise ConfigError("Backtest.plot: no run to plot")
        return last.plot(Path(filename) if filename else None)
