"""`self.data` as backtesting.py shows it: columns that grow bar by bar.

In `init()` every column has the run's full length; in `next()` it holds bars
`0..i` (`[-1]` is the current bar). A column is a NumPy view of the run's
read-only market arrays (no copy, and a write raises `ValueError`), sliced once
per bar and only when the strategy reads it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

import numpy as np
import pandas as pd

from isoloop.data.bars import OHLCV_COLUMNS
from isoloop.engine.market import AlignedSymbol

__all__ = ["Array", "Data", "Indicator"]


class Array(np.ndarray):  # type: ignore[type-arg, unused-ignore]
    """A read-only column or indicator: an ndarray with a `name` and pandas accessors.

    Truth and `float()` read the last value, so `if self.data.Close > sma:` reads
    the current bar the way backtesting.py users expect.
    """

    name: Any
    _index: pd.Index | None
    _opts: dict[str, Any]

    def __new__(cls, values: Any, *, name: Any, index: pd.Index, **opts: Any) -> Array:
        obj = np.asarray(values).view(cls)
        obj.name = name
        obj._index = index
        obj._opts = opts
        return obj

    def __array_finalize__(self, obj: Any) -> None:
        # Runs on every slice (once per column per bar): keep it to attribute copies.
        if obj is not None:
            self.name = getattr(obj, "name", "")
            self._index = getattr(obj, "_index", None)
            self._opts = getattr(obj, "_opts", None) or {}

    def __bool__(self) -> bool:
        if self.ndim and self.shape[-1]:
            return bool(self[..., -1].all()) if self.ndim > 1 else bool(self[-1])
        return bool(np.ndarray.__bool__(self))

    def __float__(self) -> float:
        if self.ndim and self.shape[-1]:
            return float(self[-1])
        return float(np.ndarray.__float__(self))

    @property
    def s(self) -> pd.Series:
        """The (first line of the) values as a Series on the bars' timestamps so far."""
        values = np.atleast_2d(np.asarray(self))
        return pd.Series(values[0], index=self._bar_index(values.shape[1]), name=self.name)

    def to_series(self) -> pd.Series:
        return self.s

    @property
    def df(self) -> pd.DataFrame:
        """Every line of the values as DataFrame columns on the bars' timestamps so far."""
        values = np.atleast_2d(np.asarray(self))
        names = self.name if isinstance(self.name, list | tuple) else [self.name] * len(values)
        return pd.DataFrame(values.T, index=self._bar_index(values.shape[1]), columns=list(names))

    def _bar_index(self, n: int) -> pd.Index:
        """The bars' timestamps so far (positions 0..n-1 for an array made outside a run)."""
        return pd.RangeIndex(n) if self._index is None else self._index[:n]


class Indicator(Array):
    """What `Strategy.I` returns: read-only values, grown bar by bar in `next()`."""


class Data:
    """The bars a strategy reads: `Open`…`Volume`, extra columns, `index`, `df`, `len()`."""

    def __init__(self, columns: Mapping[str, np.ndarray], index: pd.DatetimeIndex) -> None:
        self._index = index
        self._full: dict[str, Array] = {
            name: Array(values, name=name, index=index) for name, values in columns.items()
        }
        for arr in self._full.values():
            arr.flags.writeable = False
        self._n = len(index)
        self._cut: dict[str, Array] = {}
        self._index_cut: pd.DatetimeIndex | None = None
        self._frame: pd.DataFrame | None = None
        self._pip: float | None = None

    def _set_length(self, n: int) -> None:
        """Show bars `0..n-1` (the driver calls this once per bar, before `next()`)."""
        self._n = n
        self._cut.clear()
        self._index_cut = None

    def _column(self, name: str) -> Array:
        got = self._cut.get(name)
        if got is None:
            full = self._full[name]
            got = full if self._n == len(full) else cast(Array, full[: self._n])
            self._cut[name] = got
        return got

    def __getitem__(self, name: str) -> Array:
        try:
            return self._column(name)
        except KeyError:
            raise KeyError(
                f"column {name!r} is not in the data (columns: {', '.join(self._full)})"
            ) from None

    def __getattr__(self, name: str) -> Array:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._column(name)
        except KeyError:
            raise AttributeError(
                f"column {name!r} is not in the data (columns: {', '.join(self._full)})"
            ) from None

    @property
    def Open(self) -> Array:  # noqa: N802 - backtesting.py's column names
        return self._column("Open")

    @property
    def High(self) -> Array:  # noqa: N802
        return self._column("High")

    @property
    def Low(self) -> Array:  # noqa: N802
        return self._column("Low")

    @property
    def Close(self) -> Array:  # noqa: N802
        return self._column("Close")

    @property
    def Volume(self) -> Array:  # noqa: N802
        return self._column("Volume")

    @property
    def index(self) -> pd.DatetimeIndex:
        got = self._index_cut
        if got is None:
            got = self._index_cut = self._index[: self._n]
        return got

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._full)

    @property
    def df(self) -> pd.DataFrame:
        """The bars so far as a DataFrame (built once per run over the read-only arrays)."""
        if self._frame is None:
            self._frame = pd.DataFrame(
                {k: np.asarray(v) for k, v in self._full.items()}, index=self._index, copy=False
            )
        return self._frame if self._n == len(self._index) else self._frame.iloc[: self._n]

    @property
    def pip(self) -> float:
        """The smallest price step: 10 ** -(median count of decimals in Close)."""
        if self._pip is None:
            decimals = [len(str(v).partition(".")[2]) for v in self._full["Close"].tolist()]
            self._pip = float(10 ** -np.median(decimals)) if decimals else 1.0
        return self._pip

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[str]:
        return iter(self._full)

    def __repr__(self) -> str:
        i = self._n - 1
        if i < 0:
            return "<Data (no bars)>"
        values = ", ".join(f"{k}={v[i]}" for k, v in self._full.items())
        return f"<Data i={i} ({self._index[i]}) {values}>"


def ohlcv_columns(aligned: AlignedSymbol) -> dict[str, np.ndarray]:
    """A run symbol's read-only arrays under backtesting.py's column names, extra ones after."""
    columns: dict[str, np.ndarray] = {name: aligned.column(name) for name in OHLCV_COLUMNS}
    for name, values in aligned.extra.items():
        columns.setdefault(name, values)
    return columns
