"""Orders and their state machine.

An order is a small mutable record owned by one run; every status change goes
through `Order.transition`, which refuses moves the lifecycle does not allow,
so a component bug surfaces as `IllegalTransition` instead of a silently
corrupted book.
"""

from __future__ import annotations

import math
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from isoloop.errors import IllegalTransition

__all__ = [
    "ACTIVE_STATUSES",
    "LEGAL_TRANSITIONS",
    "TERMINAL_STATUSES",
    "Order",
    "OrderStatus",
    "OrderType",
    "Side",
    "TimeInForce",
    "order_from_record",
    "persisted_record",
]


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    STOP_LIMIT = "STOP_LIMIT"


class TimeInForce(StrEnum):
    GTC = "GTC"
    DAY = "DAY"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    RECEIVED = "RECEIVED"
    VALIDATED = "VALIDATED"
    DENIED = "DENIED"
    ROUTED = "ROUTED"
    ACCEPTED = "ACCEPTED"
    PARTIAL = "PARTIAL"
    PENDING_CANCEL = "PENDING_CANCEL"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


_S = OrderStatus
LEGAL_TRANSITIONS: MappingProxyType[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        _S.RECEIVED: frozenset({_S.VALIDATED, _S.DENIED}),
        # A validated order may be withdrawn before it is routed (an aborted block).
        _S.VALIDATED: frozenset({_S.ROUTED, _S.DENIED, _S.CANCELLED}),
        _S.ROUTED: frozenset({_S.ACCEPTED, _S.REJECTED}),
        _S.ACCEPTED: frozenset(
            {_S.PARTIAL, _S.FILLED, _S.CANCELLED, _S.REJECTED, _S.EXPIRED, _S.PENDING_CANCEL}
        ),
        _S.PARTIAL: frozenset({_S.PARTIAL, _S.FILLED, _S.CANCELLED, _S.EXPIRED, _S.PENDING_CANCEL}),
        # A fill can race a cancel request; the venue's answer decides.
        _S.PENDING_CANCEL: frozenset({_S.CANCELLED, _S.PARTIAL, _S.FILLED}),
        _S.FILLED: frozenset(),
        _S.CANCELLED: frozenset(),
        _S.REJECTED: frozenset(),
        _S.EXPIRED: frozenset(),
        _S.DENIED: frozenset(),
    }
)
TERMINAL_STATUSES = frozenset(s for s, nxt in LEGAL_TRANSITIONS.items() if not nxt)
ACTIVE_STATUSES = frozenset({_S.ACCEPTED, _S.PARTIAL, _S.PENDING_CANCEL})
# Module names: read once per order step, cheaper than the class attribute lookups.
_ACTIVE = ACTIVE_STATUSES
_TERMINAL = TERMINAL_STATUSES
_BUY = Side.BUY


class Order:
    """One order of one run. `size` is in units; `equity_fraction` sizes at fill time.

    With `equity_fraction` set (0 < f ≤ 1) the venue turns the fraction of the
    available margin into whole units at the fill price, like backtesting.py's
    relative sizes; `size` then holds the resolved units.

    `sl`/`tp` ask the venue to attach a stop-loss / take-profit to the trade this
    order opens. `parent_trade` names the trade an order closes (part of): a
    bracket (`contingent`: the trade's SL or TP, one-cancels-other) or a
    `trade.close()`. `flatten` closes every open trade of the position (the
    end-of-run close and the out-of-money liquidation).
    """

    __slots__ = (
        "avg_price",
        "contingent",
        "equity_fraction",
        "filled",
        "flatten",
        "id",
        "last_fill_bar",
        "limit",
        "parent_trade",
        "position_type",
        "reason",
        "reduce_only",
        "side",
        "size",
        "sl",
        "status",
        "stop",
        "submitted_bar",
        "symbol",
        "tag",
        "tif",
        "tp",
        "triggered",
        "type",
        "venue",
    )

    def __init__(
        self,
        id: str,
        symbol: str,
        side: Side,
        size: float = 0.0,
        *,
        venue: str = "sim",
        type: OrderType = OrderType.MARKET,
        tif: TimeInForce = TimeInForce.GTC,
        limit: float | None = None,
        stop: float | None = None,
        equity_fraction: float | None = None,
        position_type: str = "spot",
        submitted_bar: int = -1,
        tag: str | None = None,
        reduce_only: bool = False,
        sl: float | None = None,
        tp: float | None = None,
        parent_trade: str | None = None,
        contingent: bool = False,
        flatten: bool = False,
    ) -> None:
        self.id = id
        self.symbol = symbol
        self.side = side
        # Prices and sizes are floats whatever the caller typed (110 or 110.0): the order
        # record, and so the digest, must not depend on it (nor on whether this class
        # runs compiled, where a float attribute converts an int on assignment).
        self.size = float(size)
        self.venue = venue
        self.type = type
        self.tif = tif
        self.limit = None if limit is None else float(limit)
        self.stop = None if stop is None else float(stop)
        self.equity_fraction = None if equity_fraction is None else float(equity_fraction)
        self.position_type = position_type
        self.submitted_bar = submitted_bar
        self.tag = tag
        self.reduce_only = reduce_only
        self.sl = None if sl is None else float(sl)
        self.tp = None if tp is None else float(tp)
        self.parent_trade = parent_trade
        self.contingent = contingent
        self.flatten = flatten
        self.triggered = False
        self.status = OrderStatus.RECEIVED
        self.filled = 0.0
        self.avg_price = math.nan
        self.last_fill_bar = -1
        self.reason: str | None = None

    @property
    def sign(self) -> int:
        return 1 if self.side is _BUY else -1

    @property
    def remaining(self) -> float:
        return self.size - self.filled

    @property
    def is_terminal(self) -> bool:
        return self.status in _TERMINAL

    @property
    def is_active(self) -> bool:
        return self.status in _ACTIVE

    def transition(self, new: OrderStatus, reason: str | None = None) -> None:
        """Move to `new`, or raise `IllegalTransition` (EXEC-003) naming both states."""
        if new not in LEGAL_TRANSITIONS[self.status]:
            raise IllegalTransition(
                f"order {self.id} cannot go from {self.status.value} to {new.value}",
                order_id=self.id,
                from_status=self.status.value,
                to_status=new.value,
            )
        self.status = new
        if reason is not None:
            self.reason = reason

    def record_fill(self, qty: float, price: float, bar: int) -> None:
        """Add a fill of `qty` units (unsigned) and move to PARTIAL or FILLED."""
        total = self.filled + qty
        if self.filled == 0.0:
            self.avg_price = float(price)
        else:
            self.avg_price = (self.avg_price * self.filled + price * qty) / total
        self.filled = total
        self.last_fill_bar = bar
        self.transition(OrderStatus.FILLED if total >= self.size else OrderStatus.PARTIAL)

    def to_record(self) -> dict[str, Any]:
        """The canonical, JSON-able record used for listings and `order_list_hash`.

        The bracket fields appear only when set, so the records (and hashes) of
        runs that use no brackets are those of the releases before them.
        """
        record: dict[str, Any] = {
            "id": self.id,
            "symbol": self.symbol,
            "venue": self.venue,
            # `_value_`: the member's plain str, what str() of a StrEnum gives, read directly.
            "side": self.side._value_,
            "type": self.type._value_,
            "tif": self.tif._value_,
            "size": self.size,
            "equity_fraction": self.equity_fraction,
            "reduce_only": self.reduce_only,
            "limit": self.limit,
            "stop": self.stop,
            "status": self.status._value_,
            "filled": self.filled,
            "avg_price": None if math.isnan(self.avg_price) else self.avg_price,
            "submitted_bar": self.submitted_bar,
            "last_fill_bar": self.last_fill_bar,
        }
        if self.sl is not None:
            record["sl"] = self.sl
        if self.tp is not None:
            record["tp"] = self.tp
        if self.parent_trade is not None:
            record["parent_trade"] = self.parent_trade
            record["contingent"] = self.contingent
        return record

    def __repr__(self) -> str:
        return (
            f"Order({self.id} {self.side.value} {self.size:g} {self.symbol}@{self.venue} "
            f"{self.type.value} {self.status.value})"
        )


def persisted_record(o: Order) -> dict[str, Any]:
    """`o.to_record()` plus what a restart needs to rebuild it (`order_from_record`)."""
    rec = o.to_record()
    rec.update(
        position_type=o.position_type,
        tag=o.tag,
        triggered=o.triggered,
        reason=o.reason,
    )
    return rec


def order_from_record(rec: dict[str, Any]) -> Order:
    """Rebuild a persisted order (`persisted_record`) exactly as its venue last saw it."""
    o = Order(
        rec["id"],
        rec["symbol"],
        Side(rec["side"]),
        rec["size"],
        venue=rec["venue"],
        type=OrderType(rec["type"]),
        tif=TimeInForce(rec["tif"]),
        limit=rec["limit"],
        stop=rec["stop"],
        equity_fraction=rec["equity_fraction"],
        position_type=rec.get("position_type", "spot"),
        submitted_bar=rec["submitted_bar"],
        tag=rec.get("tag"),
        reduce_only=rec["reduce_only"],
        sl=rec.get("sl"),
        tp=rec.get("tp"),
        parent_trade=rec.get("parent_trade"),
        contingent=rec.get("contingent", False),
    )
    # Restored, not re-lived: the state machine already ran when the order was live.
    o.status = OrderStatus(rec["status"])
    o.filled = rec["filled"]
    o.avg_price = math.nan if rec["avg_price"] is None else rec["avg_price"]
    o.last_fill_bar = rec["last_fill_bar"]
    o.triggered = rec.get("triggered", False)
    o.reason = rec.get("reason")
    return o
