"""The trades table as a run publishes it: the engine's columns plus derived ones.

The engine records what happened (bars, prices, times, P&L, and the `tag`,
`sl`, `tp` a trade carried when present); columns computed from those belong to
results, so every place that shows trades (`.trades`, trades.csv/.parquet, the
report) adds them the same way, once.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["DERIVED_TRADE_COLUMNS", "trades_table"]

#: Columns `trades_table` adds: `duration` is exit_time − entry_time (a Timedelta).
DERIVED_TRADE_COLUMNS: tuple[str, ...] = ("duration",)


def trades_table(trades: pd.DataFrame) -> pd.DataFrame:
    """`trades` with a `duration` column (exit_time − entry_time) right after `exit_time`.

    Returns a new frame and leaves `trades` alone; a frame that already has
    `duration`, or lacks the entry/exit times to compute it, comes back unchanged
    (a copy), so calling it twice is harmless. A trade without an exit time gets NaT.
    """
    out = trades.copy()
    if "duration" in out.columns or not {"entry_time", "exit_time"} <= set(out.columns):
        return out
    entry = pd.to_datetime(out["entry_time"])
    exit_ = pd.to_datetime(out["exit_time"])
    duration = (exit_ - entry).astype("timedelta64[ns]")
    out.insert(list(out.columns).index("exit_time") + 1, "duration", duration)
    return out
