"""All symbols of a run aligned on one clock: the primary symbol's bar index.

The per-bar path indexes plain Python lists (faster than NumPy scalar access);
the read-only NumPy arrays stay available for vectorized work (`init`,
equity after the loop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isoloop.data.bars import Bars, MarketData, freeze_array
from isoloop.errors import DataError

__all__ = ["AlignedSymbol", "MarketView"]


@dataclass(frozen=True, slots=True, eq=False)
class AlignedSymbol:
    """One symbol's OHLCV on the run's clock (last known bar carried forward).

    `has_bar[i]` says whether the symbol really traded at clock bar `i`; a venue
    only fills there. NumPy arrays are read-only, lists are for the per-bar path.
    """

    symbol: str
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    has_bar: np.ndarray
    open_l: list[float]
    high_l: list[float]
    low_l: list[float]
    close_l: list[float]
    volume_l: list[float]
    has_bar_l: list[bool] | None  # None: trades on every clock bar

    @classmethod
    def align(cls, bars: Bars, clock_index: np.ndarray) -> AlignedSymbol:
        same = bars.index.shape == clock_index.shape and bool(np.all(bars.index == clock_index))
        if same:
            cols = [bars.open, bars.high, bars.low, bars.close, bars.volume]
            has_bar = freeze_array(np.ones(len(clock_index), dtype=bool), "bool")
        else:
            pos = np.searchsorted(bars.index, clock_index, side="right") - 1
            valid = pos >= 0
            safe = np.where(valid, pos, 0)
            has_bar_np = valid & (bars.index[safe] == clock_index)
            cols = []
            for arr in (bars.open, bars.high, bars.low, bars.close, bars.volume):
                aligned = np.where(valid, arr[safe], np.nan)
                cols.append(freeze_array(aligned))
            has_bar = freeze_array(has_bar_np, "bool")
        o, h, lo, c, v = cols
        return cls(
            symbol=bars.symbol,
            open=o,
            high=h,
            low=lo,
            close=c,
            volume=v,
            has_bar=has_bar,
            open_l=o.tolist(),
            high_l=h.tolist(),
            low_l=lo.tolist(),
            close_l=c.tolist(),
            volume_l=v.tolist(),
            has_bar_l=None if same else has_bar.tolist(),
        )


class MarketView:
    """The run's market: a clock index (primary symbol) and every symbol aligned on it."""

    __slots__ = ("days", "index", "primary", "symbols", "time_ns")

    def __init__(self, market_data: MarketData, primary: str | None = None) -> None:
        if len(market_data) == 0:
            raise DataError("no market data loaded: give `data.source` in the run config")
        if primary is None or primary not in market_data:
            primary = market_data.primary.symbol if primary is None else primary
        if primary not in market_data:
            raise DataError(
                f"primary symbol {primary!r} is not in the market data "
                f"(loaded: {', '.join(market_data)}); fix `data.symbol`"
            )
        self.primary = primary
        self.index: np.ndarray = market_data[primary].index
        self.time_ns: list[int] = self.index.view("int64").tolist()
        self.days: list[int] = (self.index.view("int64") // 86_400_000_000_000).tolist()
        self.symbols: dict[str, AlignedSymbol] = {
            s: AlignedSymbol.align(market_data[s], self.index) for s in market_data
        }

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def __getitem__(self, symbol: str) -> AlignedSymbol:
        try:
            return self.symbols[symbol]
        except KeyError:
            raise DataError(
                f"symbol {symbol!r} has no market data in this run "
                f"(loaded: {', '.join(self.symbols)}); add it to `instruments`"
            ) from None
