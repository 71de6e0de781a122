"""Round-trip trades derived from fills: the books' side of the venue's trades.

A fill that names a trade (`Fill.trade_id`, the simulated venue's one fill per
trade touched) closes part of that trade if it is open, or opens it. A fill
without one pairs FIFO per position key, as backtesting.py does without
hedging: it closes the oldest opposite lots first (a lot partly closed is
split) and opens a new lot with the rest. Each closed trade carries its share
of the entry fee plus its exit fee, its tag, and the stop-loss and take-profit
it last had.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from isoloop.model.events import Fill

__all__ = [
    "CLOSED_TRADE_FIELDS",
    "TRADE_COLUMNS",
    "ClosedTrade",
    "OpenLot",
    "TradeLedger",
    "closed_trades_frame",
]

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
    "tag",
    "sl",
    "tp",
)


class OpenLot:
    """An open trade as the books see it (`size` signed; `fee` the entry fee still unassigned)."""

    __slots__ = ("bar", "fee", "id", "key", "price", "size", "symbol", "tag", "venue")

    def __init__(
        self,
        id: str,
        key: str,
        symbol: str,
        venue: str,
        size: float,
        price: float,
        bar: int,
        fee: float,
        tag: str | None = None,
    ) -> None:
        self.id = id
        self.key = key
        self.symbol = symbol
        self.venue = venue
        self.size = size
        self.price = price
        self.bar = bar
        self.fee = fee
        self.tag = tag

    def __repr__(self) -> str:
        return (
            f"OpenLot(id={self.id!r}, key={self.key!r}, size={self.size!r}, price={self.price!r})"
        )


#: `ClosedTrade`'s fields, in order (its constructor's positional order too).
CLOSED_TRADE_FIELDS = (
    "symbol",
    "venue",
    "size",
    "entry_bar",
    "exit_bar",
    "entry_price",
    "exit_price",
    "pnl",
    "commission",
    "return_pct",
    "id",
    "tag",
    "sl",
    "tp",
)


class ClosedTrade:
    """One closed round trip (or the closed part of one), as the run's results keep it.

    A record: equal field by field, `as_dict()` for its fields. A slotted class
    with its own `__init__` rather than a dataclass, so compiled with the hot path
    its construction (once per trade closed) stays in C; nothing writes one after
    it is built.
    """

    __slots__ = CLOSED_TRADE_FIELDS

    def __init__(
        self,
        symbol: str,
        venue: str,
        size: float,
        entry_bar: int,
        exit_bar: int,
        entry_price: float,
        exit_price: float,
        pnl: float,
        commission: float,
        return_pct: float,
        id: str = "",
        tag: str | None = None,
        sl: float | None = None,
        tp: float | None = None,
    ) -> None:
        self.symbol = symbol
        self.venue = venue
        self.size = size
        self.entry_bar = entry_bar
        self.exit_bar = exit_bar
        self.entry_price = entry_price
        self.exit_price = exit_price
        self.pnl = pnl
        self.commission = commission
        self.return_pct = return_pct
        self.id = id
        self.tag = tag
        self.sl = sl
        self.tp = tp

    def _values(self) -> tuple[object, ...]:
        return (
            self.symbol,
            self.venue,
            self.size,
            self.entry_bar,
            self.exit_bar,
            self.entry_price,
            self.exit_price,
            self.pnl,
            self.commission,
            self.return_pct,
            self.id,
            self.tag,
            self.sl,
            self.tp,
        )

    def as_dict(self) -> dict[str, object]:
        return dict(zip(CLOSED_TRADE_FIELDS, self._values(), strict=True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClosedTrade) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items())
        return f"ClosedTrade({body})"

    def __reduce__(self) -> tuple[type[ClosedTrade], tuple[object, ...]]:
        return (ClosedTrade, self._values())


class TradeLedger:
    def __init__(self) -> None:
        self._lots: dict[str, list[OpenLot]] = {}
        self._by_id: dict[str, OpenLot] = {}
        # The SL/TP each trade last had (kept after it closes, for the trades table).
        self._brackets: dict[str, list[float | None]] = {}
        self._seq = 0
        self.closed: list[ClosedTrade] = []

    # -- brackets --------------------------------------------------------------------
    def note_bracket(self, trade_id: str, kind: str, price: float | None) -> None:
        pair = self._brackets.setdefault(trade_id, [None, None])
        pair[0 if kind == "sl" else 1] = price

    def brackets(self, trade_id: str) -> tuple[float | None, float | None]:
        pair = self._brackets.get(trade_id)
        return (None, None) if pair is None else (pair[0], pair[1])

    def seed(
        self, trade_id: str, key: str, symbol: str, venue: str, size: float, price: float, bar: int
    ) -> None:
        """An open trade the books start from (a restored account), with no fee assigned."""
        lot = OpenLot(trade_id, key, symbol, venue, size, price, bar, 0.0)
        self._lots.setdefault(key, []).append(lot)
        self._by_id[trade_id] = lot

    # -- fills -------------------------------------------------------------------------
    def on_fill(self, key: str, fill: Fill, tag: str | None = None) -> None:
        lots = self._lots.setdefault(key, [])
        tid = fill.trade_id
        if tid is not None:
            lot = self._by_id.get(tid)
            if lot is not None and lot.size * fill.qty < 0:
                self._close(lots, lot, abs(fill.qty), fill, abs(fill.qty))
            else:
                self._open(lots, key, fill, fill.qty, fill.fee, tag, tid)
            return
        qty = fill.qty
        total = abs(qty)
        remaining = qty
        while remaining and lots and lots[0].size * remaining < 0:
            lot = lots[0]
            n = min(abs(remaining), abs(lot.size))
            remaining += n if lot.size > 0 else -n
            self._close(lots, lot, n, fill, total)
        if remaining:
            fee = fill.fee if abs(remaining) == total else fill.fee * (abs(remaining) / total)
            self._open(lots, key, fill, remaining, fee, tag, None)

    def _open(
        self,
        lots: list[OpenLot],
        key: str,
        fill: Fill,
        size: float,
        fee: float,
        tag: str | None,
        tid: str | None,
    ) -> None:
        if tid is None:
            self._seq += 1
            tid = f"L{self._seq:06d}"
        lot = OpenLot(tid, key, fill.symbol, fill.venue, size, fill.price, fill.bar, fee, tag)
        lots.append(lot)
        self._by_id[tid] = lot

    def _close(self, lots: list[OpenLot], lot: OpenLot, n: float, fill: Fill, total: float) -> None:
        """Close `n` units of `lot` with (`n`/`total` of) `fill`."""
        lot_abs = abs(lot.size)
        entry_fee = lot.fee if n == lot_abs else lot.fee * (n / lot_abs)
        exit_fee = fill.fee if n == total else fill.fee * (n / total)
        size = n if lot.size > 0 else -n
        commission = entry_fee + exit_fee
        gross = 1.0 if size > 0 else -1.0
        sl, tp = self.brackets(lot.id)
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
                return_pct=gross * (fill.price / lot.price - 1.0) - commission / (n * lot.price),
                id=lot.id,
                tag=lot.tag,
                sl=sl,
                tp=tp,
            )
        )
        if n == lot_abs:
            lots.remove(lot)
            del self._by_id[lot.id]
        else:
            lot.size -= size
            lot.fee -= entry_fee

    # -- views -------------------------------------------------------------------------
    def open_lots(self) -> dict[str, float]:
        return {k: sum(lot.size for lot in v) for k, v in self._lots.items() if v}

    def open_trades(self) -> list[OpenLot]:
        """Open trades across keys, oldest first (by entry bar, then opening order)."""
        return list(self._by_id.values())

    def lots_of(self, key: str) -> list[OpenLot]:
        """The open trades of one position, oldest first (the ledger's own list: read only)."""
        return self._lots.get(key) or []

    def lot(self, trade_id: str) -> OpenLot | None:
        return self._by_id.get(trade_id)

    def frame(self, index: np.ndarray) -> pd.DataFrame:
        return closed_trades_frame(self.closed, index)


def closed_trades_frame(t: Sequence[ClosedTrade], index: np.ndarray) -> pd.DataFrame:
    """The engine's trades table of closed-trade records, times from the bars' `index`."""
    entry = np.array([x.entry_bar for x in t], dtype=np.int64)
    exit_ = np.array([x.exit_bar for x in t], dtype=np.int64)
    nan = math.nan
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
            "tag": pd.Series([x.tag for x in t], dtype=object),
            "sl": np.array([nan if x.sl is None else x.sl for x in t], dtype=np.float64),
            "tp": np.array([nan if x.tp is None else x.tp for x in t], dtype=np.float64),
        },
        columns=list(TRADE_COLUMNS),
    )
