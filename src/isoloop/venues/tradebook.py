"""The simulated venue's open trades: what a position is made of, and their brackets.

A position is the sum of its open trades. Without hedging an order first closes
the position's opposite trades oldest first (FIFO) and opens a new trade with the
rest; with hedging every order opens its own trade. A trade may carry a
stop-loss and a take-profit order (its brackets): one-cancels-other, sized to the
trade, cancelled when the trade closes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from isoloop.model.orders import Order, OrderStatus

__all__ = ["OpenTrade", "TradeBook"]


class OpenTrade:
    """One open trade of the venue (identity equality: a trade is its own ticket)."""

    __slots__ = (
        "entry_bar",
        "entry_price",
        "id",
        "key",
        "size",
        "sl_order",
        "symbol",
        "tag",
        "tp_order",
    )

    def __init__(
        self,
        id: str,
        key: str,
        symbol: str,
        size: float,  # signed units still open
        entry_price: float,
        entry_bar: int,
        tag: str | None = None,
        sl_order: Order | None = None,
        tp_order: Order | None = None,
    ) -> None:
        self.id = id
        self.key = key
        self.symbol = symbol
        self.size = size
        self.entry_price = entry_price
        self.entry_bar = entry_bar
        self.tag = tag
        self.sl_order = sl_order
        self.tp_order = tp_order

    @property
    def sl(self) -> float | None:
        o = self.sl_order
        return o.stop if o is not None and o.is_active else None

    @property
    def tp(self) -> float | None:
        o = self.tp_order
        return o.limit if o is not None and o.is_active else None


class TradeBook:
    """Open trades in the order they were opened; ids are per venue and deterministic."""

    __slots__ = ("_by_id", "_prefix", "_seq", "open")

    def __init__(self, venue: str) -> None:
        self.open: list[OpenTrade] = []
        self._by_id: dict[str, OpenTrade] = {}
        self._prefix = "T" if venue == "sim" else f"{venue}:T"
        self._seq = 0

    def __len__(self) -> int:
        return len(self.open)

    def __iter__(self) -> Iterator[OpenTrade]:
        return iter(self.open)

    def get(self, trade_id: str) -> OpenTrade | None:
        return self._by_id.get(trade_id)

    def of_key(self, key: str) -> list[OpenTrade]:
        return [t for t in self.open if t.key == key]

    def opposite(self, key: str, sign: int) -> list[OpenTrade]:
        """The key's trades an order of side `sign` closes, oldest first."""
        return [t for t in self.open if t.key == key and t.size * sign < 0]

    def add(
        self, key: str, symbol: str, size: float, price: float, bar: int, tag: str | None
    ) -> OpenTrade:
        self._seq += 1
        trade = OpenTrade(f"{self._prefix}{self._seq:06d}", key, symbol, size, price, bar, tag)
        self.open.append(trade)
        self._by_id[trade.id] = trade
        return trade

    def reduce(self, trade: OpenTrade, closed: float, keep: Order | None = None) -> list[Order]:
        """Take `closed` signed units (same sign as the trade) off `trade`.

        A trade closed completely leaves the book and its brackets are cancelled
        (one-cancels-other), except `keep`, the order that closed it; a trade
        reduced in part keeps its brackets, resized to what is left. Returns the
        brackets it cancelled (the venue takes them off its working list)."""
        trade.size -= closed
        if abs(trade.size) <= 1e-12 * max(1.0, abs(closed)):
            trade.size = 0.0
            self.open.remove(trade)
            del self._by_id[trade.id]
            cancelled = []
            for o in (trade.sl_order, trade.tp_order):
                if o is not None and o is not keep and o.is_active:
                    if o.status is not OrderStatus.PENDING_CANCEL:
                        o.transition(OrderStatus.PENDING_CANCEL)
                    o.transition(OrderStatus.CANCELLED, f"trade {trade.id} closed")
                    cancelled.append(o)
            return cancelled
        left = abs(trade.size)
        for o in (trade.sl_order, trade.tp_order):
            if o is not None and o.is_active:
                o.size = o.filled + left
        return []

    def gross_value(self, closes: dict[str, Sequence[float]], bar: int) -> float:
        """Σ |size| × close over open trades: the margin base (hedged trades both count)."""
        total = 0.0
        for t in self.open:
            total += abs(t.size) * closes[t.key][bar]
        return total
