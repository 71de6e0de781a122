"""The closed trades' numeric columns for the stats, without going through pandas.

The stats read five columns of the trades table. Reading them off a DataFrame
costs a Series per column, which is most of a short trial's stats time, so they
are read from the engine's closed-trade records (what the table is built from,
on first use); any other engine's table is read as it is. The values are the same floats either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["STATS_TRADE_COLUMNS", "trade_columns"]

#: The trades-table columns `compute_stats` reads, in this order.
STATS_TRADE_COLUMNS = ("pnl", "return_pct", "commission", "entry_bar", "exit_bar")


def trade_columns(output: Any) -> Mapping[str, np.ndarray] | pd.DataFrame:
    """The stats columns of a run's trades as float64 arrays, read off the engine's
    closed-trade records (`RunOutput.closed_trades`); another engine's output that has
    no such records gives its `trades` table as it is."""
    closed: Sequence[Any] | None = getattr(output, "closed_trades", None)
    table: pd.DataFrame
    if closed is None:
        table = output.trades
        return table
    try:
        # A column at a time: NumPy converts a flat list of floats far faster than rows.
        return {
            name: np.array([getattr(t, name) for t in closed], dtype=np.float64)
            for name in STATS_TRADE_COLUMNS
        }
    except AttributeError:  # not the records the table is made of
        table = output.trades
        return table
