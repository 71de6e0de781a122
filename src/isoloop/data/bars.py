"""Read-only OHLCV bars: the unit of market data shared by every run in a process.

Arrays are made non-writeable when a `Bars` is built, so a strategy or component
that tries to write into shared data gets an error instead of silently leaking
state into the next run. Numeric columns beyond OHLCV (a P/E ratio, a funding
rate) travel with the bars as `Bars.extra`, read-only too.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar, cast

import numpy as np
import pandas as pd

__all__ = ["OHLCV_COLUMNS", "Bars", "Columns", "MarketData", "extra_columns", "freeze_array"]

OHLCV_COLUMNS = ("Open", "High", "Low", "Close", "Volume")

_T = TypeVar("_T")


def freeze_array(values: object, dtype: str = "float64") -> np.ndarray:
    """A contiguous read-only copy (or view, when already suitable) of `values`."""
    arr = np.ascontiguousarray(values, dtype=dtype)
    if arr.flags.writeable and arr.base is not None:
        # A view on someone else's buffer could be written through the owner: copy.
        arr = arr.copy()
    arr.flags.writeable = False
    return arr


def extra_columns(frame: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """(name, float64 values) of the frame's columns beyond OHLCV that hold numbers.

    Validation has already refused or dropped text columns of a loaded file; for a
    frame built in code the same rule applies here, so `Bars.from_frame` and
    `fingerprint` of one frame always see the same columns.
    """
    out = []
    for pos, col in enumerate(frame.columns):
        series = frame.iloc[:, pos]
        dtype = series.dtype
        if str(col) in OHLCV_COLUMNS or not pd.api.types.is_numeric_dtype(dtype):
            continue
        if pd.api.types.is_complex_dtype(dtype):
            continue
        out.append((str(col), series.to_numpy(dtype="float64", na_value=np.nan)))
    return out


class Columns(Mapping[str, np.ndarray]):
    """Extra data columns by name (case as in the source), each a read-only float array.

    An immutable mapping that pickles (a `MappingProxyType` does not), so bars with
    extra columns still travel to Dask and Ray workers.
    """

    __slots__ = ("_cols",)

    def __init__(
        self, columns: Mapping[str, np.ndarray] | Iterable[tuple[str, np.ndarray]] = ()
    ) -> None:
        items = columns.items() if isinstance(columns, Mapping) else columns
        self._cols: dict[str, np.ndarray] = {str(k): freeze_array(v) for k, v in items}

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cols)

    def __len__(self) -> int:
        return len(self._cols)

    def __reduce__(self) -> tuple[type[Columns], tuple[tuple[tuple[str, np.ndarray], ...]]]:
        return (Columns, (tuple(self._cols.items()),))

    def __repr__(self) -> str:
        return f"Columns({list(self._cols)})"


@dataclass(frozen=True, slots=True, eq=False)
class Bars:
    """One symbol's bars as read-only NumPy arrays aligned on `index`.

    `extra` holds the source's other numeric columns (empty for plain OHLCV data).
    """

    symbol: str
    index: np.ndarray  # datetime64[ns]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    extra: Columns = field(default_factory=Columns)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, symbol: str) -> Bars:
        """Build from a frame with a DatetimeIndex and columns Open, High, Low, Close, Volume.

        Every other numeric column becomes an extra column (text columns are left out).
        """
        index = pd.DatetimeIndex(frame.index).as_unit("ns").to_numpy()
        return cls(
            symbol=symbol,
            index=freeze_array(index, "datetime64[ns]"),
            open=freeze_array(frame["Open"].to_numpy()),
            high=freeze_array(frame["High"].to_numpy()),
            low=freeze_array(frame["Low"].to_numpy()),
            close=freeze_array(frame["Close"].to_numpy()),
            volume=freeze_array(frame["Volume"].to_numpy()),
            extra=Columns(extra_columns(frame)),
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
                **self.extra,
            },
            index=pd.DatetimeIndex(self.index),
            copy=False,
        )


class MarketData(Mapping[str, Bars]):
    """An immutable symbol → `Bars` mapping; iteration order is sorted by symbol.

    `derived` keeps values computed from the bars (the per-bar tuples every run
    indexes) with the data, so the runs of one process build them once; `growing`
    data (rows written later, by a live feed) keeps none.
    """

    __slots__ = ("_bars", "_derived", "growing")

    def __init__(self, bars: Mapping[str, Bars], growing: bool = False) -> None:
        self._bars: Mapping[str, Bars] = MappingProxyType({k: bars[k] for k in sorted(bars)})
        self._derived: dict[Hashable, object] = {}
        #: Rows are written after the data is built (the exchange feed's preallocated
        #: candles): nothing is derived from it once for all runs.
        self.growing = growing

    def derived(self, key: Hashable, build: Callable[[], _T]) -> _T:
        """The value `build()` made for `key` the first time it was asked for here.

        Every later run in this process gets the same object, so `build` must return
        something no run can change (tuples, read-only arrays, frozen objects). Two
        threads asking at once may both build; one result is kept for both. Data
        that is `growing` keeps nothing: each call builds afresh.
        """
        if self.growing:
            return build()
        try:
            return cast(_T, self._derived[key])
        except KeyError:
            return cast(_T, self._derived.setdefault(key, build()))

    def __reduce__(self) -> tuple[type[MarketData], tuple[dict[str, Bars], bool]]:
        # The bars travel; what was derived from them is rebuilt where they land.
        return (MarketData, (dict(self._bars), self.growing))

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
