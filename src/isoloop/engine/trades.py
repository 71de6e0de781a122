"""Round-trip trades derived from fills, FIFO per position key.

The same accounting as backtesting.py without hedging: a fill against the
position closes the oldest lots first (a lot partly closed is split), the rest
opens a new lot; each closed trade carries its share of the entry fee plus its
share of the exit fee.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from isoloop.model.events import Fill

__all__ = ["TRADE_COLUMNS", "ClosedTrade", "TradeLedger"]

TRADE_COLUMNS = (
    "symbol",
    "venue",
    "size",
    "entry_bar",
    "exit_bar",
    "entry_price",
    "exit_price",
    "entry_time",
    "exit_time",
    "pnl",
    "commission",
    "return_pct",
)


@dataclass(slots=True)
class _Lot:
    size: float
    price: float
    bar: int
    fee: float


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    symbol: str
    venue: str
    size: float
    entry_bar: int
    exit_bar: int
    entry_price: float
    exit_price: float
    pnl: float
    commission: float
    return_pct: float


class TradeLedger:
    def __init__(self) -> None:
        self._lots: dict[str, list[_Lot]] = {}
        self.closed: list[ClosedTrade] = []

    def on_fill(self, key: str, fill: Fill) -> None:
        lots = self._lots.setdefault(key, [])
        qty = fill.qty
        total = abs(qty)
        remaining = qty
        while remaining and lots and lots[0].size * remaining < 0:
            lot = lots[0]
            lot_abs = abs(lot.size)
            n = min(abs(remaining), lot_abs)
            entry_fee = lot.fee if n == lot_abs else lot.fee * (n / lot_abs)
            exit_fee = fill.fee if n == total else fill.fee * (n / total)
            size = n if lot.size > 0 else -n
            commission = entry_fee + exit_fee
            gross = 1.0 if size > 0 else -1.0
            self.closed.append(
                ClosedTrade(
                    symbol=fill.symbol,
                    venue=fill.venue,
                    size=size,
                    entry_bar=lot.bar,
                    exit_bar=fill.bar,
                    entry_price=lot.price,
                    exit_price=fill.price,
                    pnl=size * (fill.price - lot.price) - commission,
                    commission=commission,
                    return_pct=gross * (fill.price / lot.price - 1.0)
                    - commission / (n * lot.price),
                )
            )
            if n == lot_abs:
                lots.pop(0)
            else:
                lot.size -= size
                lot.fee -= entry_fee
            remaining += size
        if remaining:
            fee = fill.fee if abs(remaining) == total else fill.fee * (abs(remaining) / total)
            lots.append(_Lot(remaining, fill.price, fill.bar, fee))

    def open_lots(self) -> dict[str, float]:
        return {k: sum(lot.size for lot in v) for k, v in self._lots.items() if v}

    def frame(self, index: np.ndarray) -> pd.DataFrame:
        t = self.closed
        entry = np.array([x.entry_bar for x in t], dtype=np.int64)
        exit_ = np.array([x.exit_bar for x in t], dtype=np.int64)
        return pd.DataFrame(
            {
                "symbol": pd.Series([x.symbol for x in t], dtype=object),
                "venue": pd.Series([x.venue for x in t], dtype=object),
                "size": np.array([x.size for x in t], dtype=np.float64),
                "entry_bar": entry,
                "exit_bar": exit_,
                "entry_price": np.array([x.entry_price for x in t], dtype=np.float64),
                "exit_price": np.array([x.exit_price for x in t], dtype=np.float64),
                "entry_time": pd.DatetimeIndex(index[entry]) if len(t) else pd.DatetimeIndex([]),
                "exit_time": pd.DatetimeIndex(index[exit_]) if len(t) else pd.DatetimeIndex([]),
                "pnl": np.array([x.pnl for x in t], dtype=np.float64),
                "commission": np.array([x.commission for x in t], dtype=np.float64),
                "return_pct": np.array([x.return_pct for x in t], dtype=np.float64),
            },
            columns=list(TRADE_COLUMNS),
        )
