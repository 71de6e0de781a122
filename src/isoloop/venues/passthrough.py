"""A venue that fills every order at once at its reference price, without costs.

For tests of everything around a venue (routing, books, reconciliation, risk)
where fill modelling would only add noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from isoloop.engine.clock import SimulatedClock
from isoloop.engine.health import Health, health
from isoloop.engine.venue import HandshakeSink
from isoloop.model.events import AccountSnapshot, ExecutionHandshake, Fill
from isoloop.model.orders import Order, OrderStatus
from isoloop.model.positions import position_key

__all__ = ["PassthroughVenue"]


class PassthroughVenue:
    """Reference price: the order's limit, else its stop, else the current bar's close."""

    def __init__(
        self, clock: SimulatedClock, log: Any, name: str = "passthrough", cash: float = 10_000.0
    ) -> None:
        self.name = name
        self._clock = clock
        self._market = clock.market
        self._log = log
        self._cash0 = float(cash)
        self.cash = float(cash)
        self.positions: dict[str, float] = {}
        self.working: list[Order] = []
        self._key_close: dict[str, Sequence[float]] = {}
        self.fills = 0

    def initial_cash(self) -> float:
        return self._cash0

    def reported_cash(self) -> float:
        return self.cash

    def reported_positions(self) -> dict[str, float]:
        return self.positions

    def account(self) -> AccountSnapshot:
        return AccountSnapshot(self.name, self.cash, dict(self.positions))

    def equity(self, bar: int) -> float:
        return self.cash + sum(q * self._key_close[k][bar] for k, q in self.positions.items() if q)

    def submit(self, order: Order, front: bool = False) -> ExecutionHandshake:
        return self.execute_now(order, self._clock.bar)

    def execute_now(self, order: Order, bar: int) -> ExecutionHandshake:
        sym = self._market.symbols.get(order.symbol)
        if sym is None:
            order.transition(OrderStatus.REJECTED, f"unknown symbol {order.symbol!r}")
            return ExecutionHandshake(
                order.id, self.name, order.status, bar=bar, reason=order.reason
            )
        order.transition(OrderStatus.ACCEPTED)
        price = order.limit if order.limit is not None else order.stop
        if price is None:
            price = sym.close_l[max(bar, 0)]
        key = position_key(self.name, order.position_type, order.symbol)
        self._key_close.setdefault(key, sym.close_l)
        pos = self.positions.get(key, 0.0)
        sign = order.sign
        if order.equity_fraction is not None and order.size == 0.0:
            order.size = float(
                int(max(self.equity(max(bar, 0)), 0.0) * order.equity_fraction // price)
            )
        qty = order.size
        if order.reduce_only:
            qty = min(qty, abs(pos)) if pos * sign < 0 else 0.0
        if qty <= 0:
            order.transition(OrderStatus.CANCELLED, "nothing to fill")
            return ExecutionHandshake(
                order.id, self.name, order.status, bar=bar, reason=order.reason
            )
        cash_delta = -sign * qty * price
        self.cash += cash_delta
        self.positions[key] = pos + sign * qty
        self.fills += 1
        order.size = qty
        order.record_fill(qty, price, bar)
        fill = Fill(order.id, order.symbol, self.name, sign * qty, price, 0.0, bar)
        return ExecutionHandshake(
            order.id, self.name, order.status, (fill,), ((key, sign * qty),), cash_delta, 0.0, bar
        )

    def liquidate(self, order: Order, bar: int) -> ExecutionHandshake:
        return self.execute_now(order, bar)

    def write_off(self) -> ExecutionHandshake:
        delta = -self.cash
        self.cash = 0.0
        return ExecutionHandshake(
            "WRITE-OFF", self.name, OrderStatus.FILLED, cash_delta=delta, bar=self._clock.bar
        )

    def process_bar(self, bar: int, sink: HandshakeSink, final: bool = False) -> None:
        return None

    def cancel(self, order: Order, reason: str) -> ExecutionHandshake:
        if order.is_active:
            order.transition(OrderStatus.PENDING_CANCEL)
            order.transition(OrderStatus.CANCELLED, reason)
        return ExecutionHandshake(
            order.id, self.name, order.status, bar=self._clock.bar, reason=reason
        )

    def health(self) -> Health:
        return health("healthy", venue=self.name, fills=self.fills)
