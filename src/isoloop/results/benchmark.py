"""The buy-and-hold benchmark of a run: one symbol's closes, or an equal-weight basket.

A single-symbol run is measured against holding that symbol (backtesting.py's
buy & hold). A run over several symbols is measured against the stated default
benchmark, an equal-weighted basket of every symbol in it: each leg is the
symbol's close on the run's clock (its last close carried over bars it did not
trade) relative to its close at the first bar a strategy could trade (the end of
the warm-up), or at its own first bar when it starts later; before that a leg
stays at 1.0. The basket is the legs' mean, bought once and never rebalanced.
`buy_hold_return_pct`, `alpha_pct` and `beta` use it, and so does the report's
buy-and-hold line, so the page and the stats agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["basket", "basket_value"]


def basket(closes: Sequence[np.ndarray], start: int = 0) -> np.ndarray:
    """The benchmark's closes on the run's clock (see the module's rule).

    One symbol gives its closes unchanged, so a single-symbol run's stats are
    exactly what they were; several give `basket_value` (1.0 at bar `start`).
    """
    if not closes:
        raise ValueError("basket: no closes given")
    if len(closes) == 1:
        return np.asarray(closes[0], dtype="float64")
    return basket_value(closes, start)


def basket_value(closes: Sequence[np.ndarray], start: int = 0) -> np.ndarray:
    """An equal-weight basket of `closes` (aligned on one clock, NaN before a symbol's
    first bar), 1.0 at bar `start`; all NaN when no symbol has a bar from `start` on."""
    n = len(closes[0]) if closes else 0
    begin = min(max(start, 0), max(n - 1, 0))
    legs = []
    for close in closes:
        arr = np.asarray(close, dtype="float64")
        known = np.flatnonzero(~np.isnan(arr[begin:]))
        if known.size == 0:
            continue  # a symbol with no bar after the warm-up holds no weight
        first = begin + int(known[0])
        leg = np.ones(n, dtype="float64")
        leg[first:] = arr[first:] / arr[first]
        legs.append(leg)
    if not legs:
        return np.full(n, np.nan)
    return np.asarray(np.mean(legs, axis=0), dtype="float64")
