"""Bar-range slices of market data (walk-forward windows), as read-only views.

The primary symbol (the first) defines the bar numbering; every other symbol is
cut to the same time span, so a window of a portfolio holds exactly the bars its
symbols traded between the primary's first and last bar of the window.
"""

from __future__ import annotations

import numpy as np

from isoloop.data.bars import Bars, MarketData

__all__ = ["slice_bars"]

_FIELDS = ("index", "open", "high", "low", "close", "volume")


def slice_bars(md: MarketData, start: int, stop: int) -> MarketData:
    """Read-only views of every symbol's bars on the primary's bar range [start, stop)."""
    primary = next(iter(md))
    lo, hi = md[primary].index[start], md[primary].index[stop - 1]
    out = {}
    for sym, bars in md.items():
        a = int(np.searchsorted(bars.index, lo, side="left"))
        b = int(np.searchsorted(bars.index, hi, side="right"))
        out[sym] = Bars(sym, *(getattr(bars, f)[a:b] for f in _FIELDS))
    return MarketData(out)
