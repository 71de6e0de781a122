"""The closed trades' numeric columns for the stats, without going through pandas.

The stats read five columns of the trades table. Reading them off a DataFrame
costs a Series per column, which is most of a short trial's stats time, so they
are read from the run's trade ledger (the records the table is built from) when
the run has the standard one and it agrees with the table; any other engine's
table is read as it is. The values are the same floats either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["STATS_TRADE_COLUMNS", "trade_columns"]

#: The trades-table columns `compute_stats` reads, in this order.
STATS_TRADE_COLUMNS = ("pnl", "return_pct", "commission", "entry_bar", "exit_bar")


def _ledger_records(run: Any) -> list[Any] | None:
    """The closed-trade records of the run's `position_updates` ledger, if it has one."""
    components = dict(run.components())
    ledger = getattr(components.get("position_updates"), "trades", None)
    closed = getattr(ledger, "closed", None)
    return closed if isinstance(closed, list) else None


def trade_columns(run: Any, table: pd.DataFrame) -> Mapping[str, np.ndarray] | pd.DataFrame:
    """`table`'s stats columns as float64 arrays, read off the ledger of `run` (a run
    scope) when it holds exactly the table's trades; else `table` itself."""
    closed = _ledger_records(run)
    if closed is None or len(closed) != len(table):
        return table
    try:
        rows = [(t.pnl, t.return_pct, t.commission, t.entry_bar, t.exit_bar) for t in closed]
    except AttributeError:  # not the records the table is made of: use the table
        return table
    # One contiguous row per column, as the table's columns converted to float64 are.
    matrix = np.array(rows, dtype=np.float64).reshape(len(rows), len(STATS_TRADE_COLUMNS))
    by_column = np.ascontiguousarray(matrix.T)
    return {name: by_column[k] for k, name in enumerate(STATS_TRADE_COLUMNS)}
