"""The deterministic matching engine behind the loopback exchange.

Replayed bars set the price: `set_bar(i)` makes bar i current. A MARKET order fills
in full at the current bar's close; a LIMIT order rests and fills in full, at its
limit price, on the first LATER bar whose range crosses it (low <= buy price, high >=
sell price). No order book, no partial fills, no slippage: the same orders on the
same bars always give the same fills. Spot keeps per-asset free/locked balances;
USD-M keeps one USDT wallet and one-way positions (signed amount, average entry
price, realized PnL into the wallet, unrealized PnL at the current close). Fees are a
fixed rate of the notional, charged in the quote asset (USDT) on both markets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .bars import MarketSpec

__all__ = ["ApiError", "Engine", "Fill", "Order", "Position"]

ZERO = Decimal(0)


@dataclass(frozen=True)
class ApiError:
    """A Binance error answer: HTTP status plus the `{"code": ..., "msg": ...}` body."""

    status: int
    code: int
    msg: str


UNKNOWN_ORDER = ApiError(400, -2013, "Order does not exist.")
UNKNOWN_CANCEL = ApiError(400, -2011, "Unknown order sent.")
NO_FUNDS = ApiError(400, -2010, "Account has insufficient balance for requested action.")
BAD_SYMBOL = ApiError(400, -1121, "Invalid symbol.")
SPOT_DUPLICATE = ApiError(400, -2010, "Duplicate order sent.")
PERP_DUPLICATE = ApiError(400, -4116, "ClientOrderId is duplicated.")
REDUCE_ONLY_REJECTED = ApiError(400, -2022, "ReduceOnly Order is rejected.")


@dataclass
class Fill:
    kind: str
    symbol: str
    trade_id: int
    order_id: int
    client_order_id: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    realized_pnl: Decimal
    maker: bool
    time: int
    bar: int


@dataclass
class Order:
    kind: str
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    qty: Decimal
    price: Decimal
    time_in_force: str
    reduce_only: bool
    time: int
    placed_bar: int
    status: str = "NEW"
    executed: Decimal = ZERO
    cum_quote: Decimal = ZERO
    update_time: int = 0
    locked: Decimal = ZERO
    fills: list[Fill] = field(default_factory=list)

    @property
    def avg_price(self) -> Decimal:
        return self.cum_quote / self.executed if self.executed else ZERO


@dataclass
class Position:
    amount: Decimal = ZERO
    entry: Decimal = ZERO
    realized: Decimal = ZERO
    update_time: int = 0


def _num(d: Decimal) -> float:
    return float(d)


class Engine:
    """All exchange state, guarded by one lock (the HTTP server is threaded)."""

    def __init__(
        self,
        markets: Mapping[tuple[str, str], MarketSpec],
        *,
        spot_balances: Mapping[str, float],
        futures_balance: float,
        fee_rate: float,
        strict_client_ids: bool,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.markets = dict(markets)
        self.fee_rate = Decimal(repr(float(fee_rate)))
        self.strict_client_ids = strict_client_ids
        self.clock = clock or (lambda: int(time.time() * 1000))
        self.bar = 0
        self.spot: dict[str, list[Decimal]] = {
            a: [Decimal(repr(float(v))), ZERO] for a, v in spot_balances.items()
        }
        self.wallet = Decimal(repr(float(futures_balance)))
        self.positions: dict[str, Position] = {}
        self.orders: list[Order] = []
        self.fills: list[Fill] = []
        self._next_order = 1000
        self._next_trade = 5000
        self._seen_client_ids: set[tuple[str, str]] = set()

    # -- prices ---------------------------------------------------------------------------
    def market(self, kind: str, symbol: str) -> MarketSpec | None:
        return self.markets.get((kind, symbol))

    def close(self, kind: str, symbol: str) -> Decimal:
        rows = self.markets[(kind, symbol)].rows
        return rows[min(self.bar, len(rows) - 1)].close

    def set_bar(self, i: int) -> list[Fill]:
        """Make bar i current; resting limit orders crossed by bars after their own fill."""
        with self.lock:
            longest = max(len(m.rows) for m in self.markets.values())
            if not 0 <= i < longest:
                raise IndexError(f"bar {i} outside 0..{longest - 1}")
            start, self.bar = self.bar, i
            new: list[Fill] = []
            for k in range(start + 1, i + 1):
                for order in [o for o in self.orders if o.status == "NEW" and o.placed_bar < k]:
                    rows = self.markets[(order.kind, order.symbol)].rows
                    if k >= len(rows):
                        continue
                    row = rows[k]
                    crossed = (
                        row.low <= order.price if order.side == "BUY" else row.high >= order.price
                    )
                    if crossed:
                        new.append(self._fill(order, order.price, maker=True, bar=k))
            return new

    # -- orders -------------------------------------------------------------------------
    def place(
        self,
        kind: str,
        symbol: str,
        *,
        side: str,
        type_: str,
        qty: Decimal,
        price: Decimal,
        time_in_force: str,
        client_order_id: str | None,
        reduce_only: bool,
    ) -> Order | ApiError:
        with self.lock:
            spec = self.market(kind, symbol)
            if spec is None:
                return BAD_SYMBOL
            now = self.clock()
            self._next_order += 1
            cid = client_order_id or f"loopback{self._next_order}"
            dup = any(
                o.client_order_id == cid and o.kind == kind and o.status == "NEW"
                for o in self.orders
            ) or (self.strict_client_ids and (kind, cid) in self._seen_client_ids)
            if dup:
                return SPOT_DUPLICATE if kind == "spot" else PERP_DUPLICATE
            order = Order(
                kind,
                symbol,
                self._next_order,
                cid,
                side,
                type_,
                qty,
                price,
                time_in_force,
                reduce_only,
                now,
                self.bar,
                update_time=now,
            )
            if kind == "perp" and reduce_only and not self._reduces(symbol, side, qty):
                return REDUCE_ONLY_REJECTED
            fill_price = self.close(kind, symbol) if type_ == "MARKET" else price
            if kind == "spot":
                refusal = self._reserve(spec, order, fill_price)
                if refusal is not None:
                    return refusal
            self._seen_client_ids.add((kind, cid))
            self.orders.append(order)
            if type_ == "MARKET":
                self._fill(order, fill_price, maker=False, bar=self.bar)
            elif time_in_force in ("IOC", "FOK"):
                self._release(order)
                order.status = "EXPIRED"
            return order

    def _reduces(self, symbol: str, side: str, qty: Decimal) -> bool:
        amount = self.positions.get(symbol, Position()).amount
        signed = qty if side == "BUY" else -qty
        return amount != 0 and (amount > 0) != (signed > 0) and abs(signed) <= abs(amount)

    def _reserve(self, spec: MarketSpec, order: Order, price: Decimal) -> ApiError | None:
        if order.side == "BUY":
            asset, need = spec.quote, order.qty * price * (1 + self.fee_rate)
        else:
            asset, need = spec.base, order.qty
        bal = self.spot.setdefault(asset, [ZERO, ZERO])
        if bal[0] < need:
            return NO_FUNDS
        bal[0] -= need
        bal[1] += need
        order.locked = need
        return None

    def _release(self, order: Order) -> None:
        if order.kind != "spot" or not order.locked:
            return
        spec = self.markets[(order.kind, order.symbol)]
        asset = spec.quote if order.side == "BUY" else spec.base
        bal = self.spot[asset]
        bal[0] += order.locked
        bal[1] -= order.locked
        order.locked = ZERO

    def _fill(self, order: Order, price: Decimal, *, maker: bool, bar: int) -> Fill:
        spec = self.markets[(order.kind, order.symbol)]
        now = self.clock()
        notional = order.qty * price
        fee = notional * self.fee_rate
        realized = ZERO
        self._release(order)
        if order.kind == "spot":
            base = self.spot.setdefault(spec.base, [ZERO, ZERO])
            quote = self.spot.setdefault(spec.quote, [ZERO, ZERO])
            if order.side == "BUY":
                quote[0] -= notional + fee
                base[0] += order.qty
            else:
                base[0] -= order.qty
                quote[0] += notional - fee
        else:
            realized = self._move_position(order.symbol, order.side, order.qty, price, now)
            self.wallet += realized - fee
        self._next_trade += 1
        fill = Fill(
            order.kind,
            order.symbol,
            self._next_trade,
            order.order_id,
            order.client_order_id,
            order.side,
            price,
            order.qty,
            fee,
            spec.quote,
            realized,
            maker,
            now,
            bar,
        )
        order.fills.append(fill)
        self.fills.append(fill)
        order.executed = order.qty
        order.cum_quote = notional
        order.status = "FILLED"
        order.update_time = now
        return fill

    def _move_position(
        self, symbol: str, side: str, qty: Decimal, price: Decimal, now: int
    ) -> Decimal:
        pos = self.positions.setdefault(symbol, Position())
        signed = qty if side == "BUY" else -qty
        realized = ZERO
        if pos.amount == 0 or (pos.amount > 0) == (signed > 0):
            total = abs(pos.amount) + qty
            pos.entry = (pos.entry * abs(pos.amount) + price * qty) / total
        else:
            closed = min(qty, abs(pos.amount))
            direction = 1 if pos.amount > 0 else -1
            realized = (price - pos.entry) * closed * direction
            if qty > abs(pos.amount):
                pos.entry = price
            elif qty == abs(pos.amount):
                pos.entry = ZERO
        pos.amount += signed
        pos.realized += realized
        pos.update_time = now
        return realized

    def cancel(
        self, kind: str, symbol: str, order_id: int | None, client_order_id: str | None
    ) -> Order | ApiError:
        with self.lock:
            found = self.find(kind, symbol, order_id, client_order_id)
            if isinstance(found, ApiError) or found.status != "NEW":
                return UNKNOWN_CANCEL
            self._release(found)
            found.status = "CANCELED"
            found.update_time = self.clock()
            return found

    def find(
        self, kind: str, symbol: str, order_id: int | None, client_order_id: str | None
    ) -> Order | ApiError:
        """By exchange id, else by client id (the newest order carrying it, like Binance)."""
        with self.lock:
            for order in reversed(self.orders):
                if order.kind != kind or order.symbol != symbol:
                    continue
                if order_id is not None and order.order_id == order_id:
                    return order
                if order_id is None and order.client_order_id == client_order_id:
                    return order
            return UNKNOWN_ORDER

    def unrealized(self, symbol: str) -> Decimal:
        pos = self.positions.get(symbol, Position())
        return (self.close("perp", symbol) - pos.entry) * pos.amount if pos.amount else ZERO

    # -- assertion snapshots (plain JSON-able dicts, numbers as floats) -----------------
    def orders_snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {
                    "market": o.kind,
                    "symbol": o.symbol,
                    "order_id": o.order_id,
                    "client_order_id": o.client_order_id,
                    "side": o.side,
                    "type": o.type,
                    "qty": _num(o.qty),
                    "price": _num(o.price),
                    "status": o.status,
                    "executed": _num(o.executed),
                    "avg_price": _num(o.avg_price),
                    "reduce_only": o.reduce_only,
                    "placed_bar": o.placed_bar,
                }
                for o in self.orders
            ]

    def fills_snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {
                    "market": f.kind,
                    "symbol": f.symbol,
                    "trade_id": f.trade_id,
                    "order_id": f.order_id,
                    "client_order_id": f.client_order_id,
                    "side": f.side,
                    "price": _num(f.price),
                    "qty": _num(f.qty),
                    "commission": _num(f.commission),
                    "commission_asset": f.commission_asset,
                    "realized_pnl": _num(f.realized_pnl),
                    "maker": f.maker,
                    "bar": f.bar,
                }
                for f in self.fills
            ]

    def balances_snapshot(self) -> dict[str, Any]:
        with self.lock:
            spot = {a: {"free": _num(b[0]), "locked": _num(b[1])} for a, b in self.spot.items()}
            upnl = sum((self.unrealized(s) for s in self.positions), ZERO)
            return {
                "spot": spot,
                "futures": {"USDT": {"wallet": _num(self.wallet), "unrealized_pnl": _num(upnl)}},
            }

    def positions_snapshot(self) -> dict[str, dict[str, float]]:
        with self.lock:
            return {
                s: {
                    "amount": _num(p.amount),
                    "entry_price": _num(p.entry),
                    "unrealized_pnl": _num(self.unrealized(s)),
                    "realized_pnl": _num(p.realized),
                }
                for s, p in self.positions.items()
            }
