"""The helpers ported strategies import from `backtesting.lib`, written for isoloop.

`crossover`, `cross`, `barssince` and `quantile` read the last bars of the
growing arrays a compat strategy sees in `next()`; `SignalStrategy` and
`TrailingStrategy` are the two composable strategies of backtesting.lib.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Number
from typing import Any

import numpy as np
import pandas as pd

from isoloop.compat.backtesting._strategy import Strategy

__all__ = [
    "SignalStrategy",
    "TrailingStrategy",
    "barssince",
    "cross",
    "crossover",
    "quantile",
]


def _last_two(series: Any) -> Any:
    if isinstance(series, np.ndarray):  # the common case in next(): checked first, it is hot
        return series
    if isinstance(series, pd.Series):
        return series.to_numpy()
    if isinstance(series, int | float | Number):
        return (series, series)  # a constant level crosses like a flat line
    return series


def crossover(series1: Any, series2: Any) -> bool:
    """True when `series1` went from below `series2` on the previous bar to above it now."""
    a, b = _last_two(series1), _last_two(series2)
    try:
        return bool(a[-2] < b[-2] and a[-1] > b[-1])
    except IndexError:
        return False


def cross(series1: Any, series2: Any) -> bool:
    """True when the two series crossed (either way) on the current bar."""
    return crossover(series1, series2) or crossover(series2, series1)


def barssince(condition: Sequence[bool], default: float = np.inf) -> float:
    """Bars since `condition` was last true (0: true now); `default` when it never was."""
    flags = np.asarray(condition, dtype=bool)
    hits = np.flatnonzero(flags[::-1])
    return int(hits[0]) if len(hits) else default


def quantile(series: Sequence[float], quantile: float | None = None) -> float:
    """Without `quantile`: the share of earlier values below the last one.
    With `quantile` in [0, 1]: the series' value at that quantile (NaNs ignored)."""
    values = np.asarray(series, dtype=np.float64)
    if quantile is None:
        if not len(values):
            return float("nan")
        return float(np.mean(values[:-1] < values[-1])) if len(values) > 1 else float("nan")
    if not 0 <= quantile <= 1:
        raise ValueError(f"quantile must be within [0, 1], got {quantile!r}")
    return float(np.nanpercentile(values, quantile * 100))


class SignalStrategy(Strategy):
    """Trade from precomputed signal arrays: call `set_signal(entry_size, exit_portion)` in init.

    `entry_size[i] > 0` buys that size on bar i, `< 0` sells; `exit_portion[i] > 0`
    closes that portion of the long trades, `< 0` of the short ones. Subclasses that
    override `init`/`next` call `super().init()`/`super().next()`.
    """

    def set_signal(
        self,
        entry_size: Sequence[float],
        exit_portion: Sequence[float] | None = None,
        *,
        plot: bool = True,
    ) -> None:
        def entries() -> pd.Series:
            return pd.Series(entry_size, dtype=float).replace(0, np.nan)

        self._signal_entry = self.I(
            entries, name="entry size", plot=plot, overlay=False, scatter=True
        )
        if exit_portion is not None:

            def exits() -> pd.Series:
                return pd.Series(exit_portion, dtype=float).replace(0, np.nan)

            self._signal_exit = self.I(
                exits, name="exit portion", plot=plot, overlay=False, scatter=True
            )

    def next(self) -> None:
        super().next()
        exit_ = getattr(self, "_signal_exit", None)
        portion = float(exit_[-1]) if exit_ is not None and len(exit_) else 0.0
        if portion > 0:
            for trade in self.trades:
                if trade.is_long:
                    trade.close(portion)
        elif portion < 0:
            for trade in self.trades:
                if trade.is_short:
                    trade.close(-portion)
        entry = getattr(self, "_signal_entry", None)
        size = float(entry[-1]) if entry is not None and len(entry) else 0.0
        if size > 0:
            self.buy(size=size)
        elif size < 0:
            self.sell(size=-size)


class TrailingStrategy(Strategy):
    """Moves every open trade's stop-loss to `n_atr` average true ranges behind the close.

    Call `set_trailing_sl(n_atr)` (default 6) or `set_trailing_pct(pct)` in `init`,
    after `super().init()`; `next` overrides call `super().next()`.
    """

    def init(self) -> None:
        super().init()
        self._trail_n_atr = 6.0
        self.set_atr_periods()

    def set_atr_periods(self, periods: int = 100) -> None:
        """The lookback of the average true range (100 bars: a stable ATR)."""
        high, low = np.asarray(self.data.High), np.asarray(self.data.Low)
        prev_close = pd.Series(np.asarray(self.data.Close)).shift(1).to_numpy()
        # The first bar has no previous close: its range is NaN and the first ATR comes a
        # bar later (backtesting.lib's rule), then the start is back-filled.
        true_range = np.max(
            [high - low, np.abs(prev_close - high), np.abs(prev_close - low)], axis=0
        )
        atr = pd.Series(true_range).rolling(periods).mean().bfill().to_numpy()
        self._trail_atr = atr

    def set_trailing_sl(self, n_atr: float = 6) -> None:
        self._trail_n_atr = float(n_atr)

    def set_trailing_pct(self, pct: float = 0.05) -> None:
        """Trail `pct` below the price, converted to ATRs once (mean over the series)."""
        if not 0 < pct < 1:
            raise ValueError(f"set_trailing_pct: pct is a rate (5% is 0.05), got {pct!r}")
        self.set_trailing_sl(float(np.mean(np.asarray(self.data.Close) * pct / self._trail_atr)))

    def next(self) -> None:
        super().next()
        i = len(self.data) - 1
        close = float(self.data.Close[-1])
        distance = self._trail_atr[i] * self._trail_n_atr
        for trade in self.trades:
            if trade.is_long:
                trade.sl = max(trade.sl or -np.inf, close - distance)
            else:
                trade.sl = min(trade.sl or np.inf, close + distance)
