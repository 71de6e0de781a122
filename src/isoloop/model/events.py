"""Immutable events and the venue's answer to an order (`ExecutionHandshake`).

`Fill`, `ExecutionHandshake` and `BarEvent` are NamedTuples: built once or
twice per order (or per bar), and a frozen dataclass costs several times more
to construct.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from isoloop.model.orders import OrderStatus

__all__ = [
    "AccountSnapshot",
    "BarEvent",
    "ExecutionHandshake",
    "Fill",
    "FillEvent",
    "OrderEvent",
    "PositionUpdate",
]


class BarEvent(NamedTuple):
    bar: int
    time_ns: int


class Fill(NamedTuple):
    """One execution: signed `qty` (+ buy, − sell) at `price`, with its fee.

    `trade_id` names the trade the fill opens or closes part of, when the venue
    keeps trades (the simulated venue does: one fill per trade touched); venues
    that do not leave it None and the books pair fills FIFO instead.
    """

    order_id: str
    symbol: str
    venue: str
    qty: float
    price: float
    fee: float
    bar: int
    trade_id: str | None = None


class ExecutionHandshake(NamedTuple):
    """What a venue reports for one order step: status, fills and the actual deltas.

    `deltas` maps position keys (`venue:position_type:symbol`) to the signed
    change in units; `cash_delta` is the venue account's cash change including
    `fees`. The position update handler applies exactly these numbers, then
    reconciles against the venue's account.
    """

    order_id: str
    venue: str
    status: OrderStatus
    fills: tuple[Fill, ...] = ()
    deltas: tuple[tuple[str, float], ...] = ()
    cash_delta: float = 0.0
    fees: float = 0.0
    bar: int = -1
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    venue: str
    cash: float
    positions: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrderEvent:
    order_id: str
    status: OrderStatus
    bar: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class FillEvent:
    fill: Fill


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    key: str
    qty: float
    cash: float
    bar: int
