"""All symbols of a run aligned on one clock, chosen by `data.clock`.

The clock is the primary symbol's bar index (the default), another symbol's, or
the sorted union of every symbol's timestamps. A symbol without a bar at a clock
step carries its last bar forward (NaN before its first bar) and `has_bar` says
it did not trade there, so a venue fills its orders only on its own bars and its
positions are marked at its last traded close.

The per-bar path indexes plain Python tuples (faster than NumPy scalar access);
the read-only NumPy arrays stay available for vectorized work (`init`,
equity after the loop). Both are built once per process for each clock and
kept with the shared market data (`MarketData.derived`): every run reads the
same immutable objects instead of converting 2 × 5 columns per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from isoloop.data.bars import OHLCV_COLUMNS, Bars, Columns, MarketData, freeze_array
from isoloop.errors import DataError

__all__ = ["CLOCKS", "AlignedSymbol", "MarketView"]

#: The `data.clock` values that are not a symbol's name.
CLOCKS = ("primary", "union")


def _carry(arr: np.ndarray, valid: np.ndarray, safe: np.ndarray) -> np.ndarray:
    return freeze_array(np.where(valid, arr[safe], np.nan))


@dataclass(frozen=True, slots=True, eq=False)
class AlignedSymbol:
    """One symbol's OHLCV and extra columns on the run's clock (last bar carried forward).

    `has_bar[i]` says whether the symbol really traded at clock bar `i`; a venue
    only fills there. NumPy arrays are read-only; the `*_l` sequences are the same
    values for the per-bar path: tuples shared by every run of the process, or this
    run's own lists when the data is growing (a live exchange feed writes rows later).
    `sym["PE"]` (or `sym.column("PE")`) is an extra column of the data as a
    read-only array on the same clock; `sym["Close"]` is `sym.close`.
    """

    symbol: str
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    has_bar: np.ndarray
    open_l: Sequence[float]
    high_l: Sequence[float]
    low_l: Sequence[float]
    close_l: Sequence[float]
    volume_l: Sequence[float]
    has_bar_l: Sequence[bool] | None  # None: trades on every clock bar
    extra: Columns = field(default_factory=Columns)

    @classmethod
    def align(cls, bars: Bars, clock_index: np.ndarray, *, lists: bool = False) -> AlignedSymbol:
        """`bars` on `clock_index`; the per-bar values as tuples, or as lists when
        `lists` (growing data: the exchange feed's engine writes new rows into them)."""
        seq: type[list[Any]] | type[tuple[Any, ...]] = list if lists else tuple
        same = bars.index.shape == clock_index.shape and bool(np.all(bars.index == clock_index))
        if same:
            cols = [bars.open, bars.high, bars.low, bars.close, bars.volume]
            has_bar = freeze_array(np.ones(len(clock_index), dtype=bool), "bool")
            extra = bars.extra
        else:
            pos = np.searchsorted(bars.index, clock_index, side="right") - 1
            valid = pos >= 0
            safe = np.where(valid, pos, 0)
            has_bar_np = valid & (bars.index[safe] == clock_index)
            cols = [
                _carry(arr, valid, safe)
                for arr in (bars.open, bars.high, bars.low, bars.close, bars.volume)
            ]
            extra = Columns((name, _carry(v, valid, safe)) for name, v in bars.extra.items())
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
            open_l=seq(o.tolist()),
            high_l=seq(h.tolist()),
            low_l=seq(lo.tolist()),
            close_l=seq(c.tolist()),
            volume_l=seq(v.tolist()),
            has_bar_l=None if same else seq(has_bar.tolist()),
            extra=extra,
        )

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column a strategy can read: Open..Volume, then the data's extra columns."""
        return (*OHLCV_COLUMNS, *self.extra)

    def column(self, name: str) -> np.ndarray:
        """The column `name` (case as in the data) as a read-only array on the run's clock."""
        values = self.extra.get(name)
        if values is not None:
            return values
        if name in OHLCV_COLUMNS:
            arr: np.ndarray = getattr(self, name.lower())
            return arr
        extra = ", ".join(self.extra) or "none"
        raise DataError(
            f"symbol {self.symbol!r} has no data column {name!r} (extra columns: {extra}); "
            "add it to the data source or fix the name (case matters)"
        )

    def __getitem__(self, name: str) -> np.ndarray:
        return self.column(name)

    def __contains__(self, name: object) -> bool:
        return name in OHLCV_COLUMNS or name in self.extra


def _clock_index(market_data: MarketData, primary: str, clock: str) -> np.ndarray:
    if clock == "primary":
        return market_data[primary].index
    if clock == "union":
        stamps = np.unique(np.concatenate([b.index for b in market_data.values()]))
        return freeze_array(stamps, "datetime64[ns]")
    if clock not in market_data:
        raise DataError(
            f"data.clock: {clock!r} is not a loaded symbol (loaded: {', '.join(market_data)}); "
            "use primary, union or one of those symbols"
        )
    return market_data[clock].index


def _day_numbers(index: np.ndarray) -> tuple[int, ...]:
    """Each bar's day number: its ns since the epoch // one day."""
    return tuple((index.view("int64") // 86_400_000_000_000).tolist())


class _Aligned:
    """What every run on one clock shares: the index, its per-bar tuples, the symbols.

    `days` (each bar's day number, read by DAY orders and the daily loss limit only)
    is built on first use: 200k bars take ≈ 7 ms to turn into a tuple.
    """

    __slots__ = ("_days", "index", "symbols", "time_ns")

    def __init__(
        self,
        index: np.ndarray,
        time_ns: tuple[int, ...],
        symbols: tuple[tuple[str, AlignedSymbol], ...],
        days: tuple[int, ...] | None = None,
    ) -> None:
        self.index = index
        self.time_ns = time_ns
        self.symbols = symbols
        self._days = days

    @property
    def days(self) -> tuple[int, ...]:
        if self._days is None:  # two runs racing here build equal tuples
            self._days = _day_numbers(self.index)
        return self._days

    @classmethod
    def build(cls, market_data: MarketData, index_of: str, lists: bool = False) -> _Aligned:
        """`index_of`: the symbol whose index is the clock, or "" for the union clock."""
        if index_of:
            index = market_data[index_of].index
        else:
            index = _clock_index(market_data, index_of, "union")
        ns = index.view("int64")
        return cls(
            index=index,
            time_ns=tuple(ns.tolist()),
            symbols=tuple(
                (s, AlignedSymbol.align(market_data[s], index, lists=lists)) for s in market_data
            ),
            # Growing data: the days as the bars were when the run began, as ever.
            days=_day_numbers(index) if lists else None,
        )


class MarketView:
    """The run's market: a clock index and every symbol aligned on it.

    `primary` is the symbol orders default to (`data:`'s); `clock` how the index
    was chosen: `primary`, `union` or a symbol's name.
    """

    __slots__ = ("_shared", "clock", "index", "primary", "symbols", "time_ns")

    def __init__(
        self, market_data: MarketData, primary: str | None = None, clock: str = "primary"
    ) -> None:
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
        self.clock = clock
        index_of = "" if clock == "union" else primary if clock == "primary" else clock
        if index_of and index_of not in market_data:
            _clock_index(market_data, primary, clock)  # raises the DataError that says how to fix
        if market_data.growing:  # this run's own lists, written as rows arrive
            shared = _Aligned.build(market_data, index_of, lists=True)
        else:
            shared = market_data.derived(
                ("isoloop.engine.market", index_of), lambda: _Aligned.build(market_data, index_of)
            )
        self._shared = shared
        self.index: np.ndarray = shared.index
        self.time_ns: tuple[int, ...] = shared.time_ns
        # The run's own dict (a strategy cannot swap another run's symbol) over shared,
        # immutable symbols.
        self.symbols: dict[str, AlignedSymbol] = dict(shared.symbols)

    @property
    def days(self) -> tuple[int, ...]:
        """Each bar's day number (ns since the epoch // one day), built on first use."""
        return self._shared.days

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
