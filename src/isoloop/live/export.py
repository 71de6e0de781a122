"""A live container's equity, trades, orders and fills as files, in a backtest run folder's
formats (`equity.parquet/.csv`, `trades.parquet/.csv`, `orders.jsonl`) plus `fills.csv`.

The files are a view of the state store, which stays the durable record (one
transaction per bar). They are refreshed by the container every
`EXPORT_EVERY` seconds of wall time and when it stops: rewriting Parquet on every
bar would cost more than processing the bar, while SQLite already holds each bar
the moment it is processed. `export_session` rebuilds them at any time from the
store alone, e.g. after the process was killed. Each file is written to a
temporary name and renamed over the old one, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from isoloop.engine.trades import ClosedTrade, TradeLedger
from isoloop.errors import ConfigError
from isoloop.live.recording import (
    find_store,
    read_bars,
    read_trades,
    recorded_accounts,
    snapshot,
)
from isoloop.live.slots.store import read_account_rows
from isoloop.results.rundir import write_run_files

__all__ = ["EXPORT_EVERY", "EXPORT_FILES", "ExportSummary", "export_account", "export_session"]

#: Seconds between two refreshes of a running container's export files.
EXPORT_EVERY = 10.0
EXPORT_FILES = (
    "equity.parquet",
    "equity.csv",
    "trades.parquet",
    "trades.csv",
    "orders.jsonl",
    "fills.csv",
    "export.json",
)
FILL_COLUMNS = ("seq", "order_id", "symbol", "venue", "qty", "price", "fee", "bar", "time")


@dataclass(frozen=True, slots=True)
class ExportSummary:
    account: str
    folder: Path
    bars: int
    last_bar: int
    trades: int
    orders: int
    fills: int


def _times_by_bar(bars: list[int], times: list[int]) -> np.ndarray:
    """Bar number -> its timestamp (NaT for bars the container never processed)."""
    size = (max(bars) + 1) if bars else 0
    out = np.full(size, np.datetime64("NaT"), dtype="datetime64[ns]")
    if bars:
        out[np.asarray(bars)] = np.asarray(times, dtype="datetime64[ns]")
    return out


def export_account(store: Path, account: str, folder: Path) -> ExportSummary:
    """Write `account`'s export files into `folder` from the state store at `store`."""
    with snapshot(store) as db:  # one consistent state, even while the container writes
        recorded = read_bars(store, account, db)
        rows = read_account_rows(store, account, db)
        closed = read_trades(store, account, db)
    bars = [b.bar for b in recorded]
    times = [b.time_ns for b in recorded]
    by_bar = _times_by_bar(bars, times)
    ledger = TradeLedger()
    ledger.closed = [ClosedTrade(**r) for r in closed]
    symbols = sorted({s for b in recorded for s in b.values})
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    try:
        write_run_files(
            staging,
            index=np.asarray(times, dtype="datetime64[ns]"),
            equity=np.asarray([b.equity for b in recorded], dtype=np.float64),
            trades=ledger.frame(by_bar),
            orders=rows["orders"],
            cash=np.asarray([b.cash for b in recorded], dtype=np.float64),
            values={
                s: np.asarray([b.values.get(s, 0.0) for b in recorded], dtype=np.float64)
                for s in symbols
            },
        )
        fills = pd.DataFrame(rows["fills"], columns=list(FILL_COLUMNS[:-1]))
        fills["time"] = pd.DatetimeIndex(
            [by_bar[b] if 0 <= b < len(by_bar) else np.datetime64("NaT") for b in fills["bar"]]
        )
        fills.to_csv(staging / "fills.csv", index=False)
        summary = ExportSummary(
            account,
            folder,
            len(recorded),
            bars[-1] if bars else -1,
            len(ledger.closed),
            len(rows["orders"]),
            len(rows["fills"]),
        )
        meta = {
            "account": account,
            "bars": summary.bars,
            "last_bar": summary.last_bar,
            "trades": summary.trades,
            "orders": summary.orders,
            "fills": summary.fills,
        }
        (staging / "export.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        for name in EXPORT_FILES:
            os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return summary


def export_session(state_dir: Path, account: str | None = None) -> list[ExportSummary]:
    """Rebuild the export files of `account` (default: every recorded strategy) of the
    state folder `state_dir`, into `state_dir/exports/<account>/`."""
    store = find_store(state_dir)
    names = recorded_accounts(store) if account is None else [account]
    if not names:
        raise ConfigError(f"{store}: no recorded strategy session to export")
    return [export_account(store, n, store.parent / "exports" / n) for n in names]
