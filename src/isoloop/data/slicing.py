"""Bar-range slices of market data (walk-forward windows), as read-only views.

The primary symbol (the first) defines the bar numbering; every other symbol is
cut to the same time span, so a window of a portfolio holds exactly the bars its
symbols traded between the primary's first and last bar of the window.
"""

from __future__ import annotations

import numpy as np

from isoloop.data.bars import Bars, Columns, MarketData

__all__ = ["slice_bars"]

_FIELDS = ("index", "open", "high", "low", "close", "volume")


def slice_bars(md: MarketData, start: int, stop: int) -> MarketData:
    """Read-only views of every symbol's bars and extra columns on the primary's [start, stop)."""
    primary = next(iter(md))
    lo, hi = md[primary].index[start], md[primary].index[stop - 1]
    out = {}
    for sym, bars in md.items():
        a = int(np.searchsorted(bars.index, lo, side="left"))
        b = int(np.searchsorted(bars.index, hi, side="right"))
        extra = Columns((name, values[a:b]) for name, values in bars.extra.items())
        cut = {f: getattr(bars, f)[a:b] for f in _FIELDS}
        out[sym] = Bars(symbol=sym, **cut, extra=extra)
    return MarketData(out)
