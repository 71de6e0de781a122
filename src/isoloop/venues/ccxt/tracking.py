"""An order at the exchange as the venue follows it, and turning exchange trades into fills."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from isoloop.model.events import Fill
from isoloop.model.orders import Order, order_from_record
from isoloop.model.orders import persisted_record as order_record

__all__ = ["Tracked", "TradeEffect", "order_from_record", "order_record", "trade_effect"]


@dataclass(slots=True)
class Tracked:
    order: Order
    client_id: str
    symbol: str  # the exchange's (ccxt) symbol
    exchange_id: str | None = None
    reported: set[str] = field(default_factory=set)  # exchange trade ids sent as fills
    reported_qty: float = 0.0
    # Trades found at a restart that the books do not hold yet (kept out of the account).
    pending: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TradeEffect:
    """One exchange trade in the books' terms: the position change and the cash change."""

    trade_id: str
    key: str
    qty: float  # signed units, net of a fee charged in the base asset
    price: float
    fee: float  # in the quote asset (cash)
    gross: float  # unsigned units the order filled
    cash: float  # −(signed units traded)·price − fee


def trade_effect(trade: dict[str, Any], key: str, base: str, quote: str) -> TradeEffect:
    amount = float(trade["amount"])
    price = float(trade["price"])
    sign = 1.0 if trade.get("side") == "buy" else -1.0
    fee_cash = 0.0
    fee_base = 0.0
    fees = trade.get("fees") or ([trade["fee"]] if trade.get("fee") else [])
    for f in fees:
        if not f or f.get("cost") in (None, ""):
            continue
        cost = float(f["cost"])
        if f.get("currency") == base:
            fee_base += cost
        elif f.get("currency") in (quote, None):
            fee_cash += cost
    return TradeEffect(
        str(trade["id"]),
        key,
        sign * amount - fee_base,
        price,
        fee_cash,
        amount,
        -sign * amount * price - fee_cash,
    )


def fill_of(order: Order, venue: str, effect: TradeEffect, bar: int) -> Fill:
    return Fill(order.id, order.symbol, venue, effect.qty, effect.price, effect.fee, bar)
