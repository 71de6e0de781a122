"""Read-only OHLCV bars: the unit of market data shared by every run in a process.

Arrays are made non-writeable when a `Bars` is built, so a strategy or component
that tries to write into shared data gets an error instead of silently leaking
state into the next run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

__all__ = ["OHLCV_COLUMNS", "Bars", "MarketData", "freeze_array"]

OHLCV_COLUMNS = ("Open", "High", "Low", "Close", "Volume")


def freeze_array(values: object, dtype: str = "float64") -> np.ndarray:
    """A contiguous read-only copy (or view, when already suitable) of `values`."""
    arr = np.ascontiguousarray(values, dtype=dtype)
    if arr.flags.writeable and arr.base is not None:
        # A view on someone else's buffer could be written through the owner: copy.
        arr = arr.copy()
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, slots=True, eq=False)
class Bars:
    """One symbol's bars as read-only NumPy arrays aligned on `index`."""

    symbol: str
    index: np.ndarray  # datetime64[ns]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, symbol: str) -> Bars:
        """Build from a frame with a DatetimeIndex and columns Open, High, Low, Close, Volume."""
        index = pd.DatetimeIndex(frame.index).as_unit("ns").to_numpy()
        return cls(
            symbol=symbol,
            index=freeze_array(index, "datetime64[ns]"),
            open=freeze_array(frame["Open"].to_numpy()),
            high=freeze_array(frame["High"].to_numpy()),
            low=freeze_array(frame["Low"].to_numpy()),
            close=freeze_array(frame["Close"].to_numpy()),
            volume=freeze_array(frame["Volume"].to_numpy()),
        )

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """A pandas view of the bars (column arrays stay read-only)."""
        return pd.DataFrame(
            {
                "Open": self.open,
                "High": self.high,
                "Low": self.low,
                "Close": self.close,
                "Volume": self.volume,
            },
            index=pd.DatetimeIndex(self.index),
            copy=False,
        )


class MarketData(Mapping[str, Bars]):
    """An immutable symbol → `Bars` mapping; iteration order is sorted by symbol."""

    __slots__ = ("_bars",)

    def __init__(self, bars: Mapping[str, Bars]) -> None:
        self._bars: Mapping[str, Bars] = MappingProxyType({k: bars[k] for k in sorted(bars)})

    def __getitem__(self, symbol: str) -> Bars:
        try:
            return self._bars[symbol]
        except KeyError:
            known = ", ".join(self._bars) or "none"
            raise KeyError(f"no market data for symbol {symbol!r} (loaded: {known})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._bars)

    def __len__(self) -> int:
        return len(self._bars)

    @property
    def primary(self) -> Bars:
        """The first symbol's bars (single-instrument runs)."""
        return next(iter(self._bars.values()))
