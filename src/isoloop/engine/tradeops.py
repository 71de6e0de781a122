"""Trade operations of the execution manager: brackets, trade closes, exclusive orders.

Mixed into `ExecutionManager`. The venue that keeps a trade holds its bracket
orders; these methods number and register the orders it asks for, change a
trade's SL/TP on the strategy's behalf, and queue the closes of a trade.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from mypy_extensions import trait

from isoloop.engine.clock import SimulatedClock
from isoloop.engine.positions import PositionUpdateHandler
from isoloop.engine.venue_manager import VenueInterfaceManager
from isoloop.model.orders import Order, OrderStatus, Side

__all__ = ["TradeOperations"]


@trait
class TradeOperations:
    orders: list[Order]
    _updates: PositionUpdateHandler
    _venues: VenueInterfaceManager
    _clock: SimulatedClock

    # The execution manager's own methods, declared abstract here (not in a TYPE_CHECKING
    # block: mypyc, tools/compile.py, compiles no conditional class bodies).
    @abstractmethod
    def new_order(self, *args: Any, **kwargs: Any) -> Order: ...

    @abstractmethod
    def submit(self, order: Order, *, skip_risk: bool = False, front: bool = False) -> Order: ...

    @abstractmethod
    def cancel(self, order: Order, reason: str = "cancelled by strategy") -> Order: ...

    def _new_bracket(
        self,
        symbol: str,
        side: Side,
        size: float,
        *,
        venue: str,
        stop: float | None,
        limit: float | None,
        tag: str | None,
        trade_id: str,
    ) -> Order:
        """A trade's SL (stop) or TP (limit), numbered and registered by this run.

        Brackets protect a position, so they skip the pre-trade checks (a kill
        switch never strands a position without its stop); they are routed by the
        venue that keeps the trade."""
        order = self.new_order(symbol, side, size, venue=venue, stop=stop, limit=limit, tag=tag)
        self.orders.append(order)
        order.transition(OrderStatus.VALIDATED)
        order.transition(OrderStatus.ROUTED)
        self._updates.trades.note_bracket(
            trade_id, "sl" if stop is not None else "tp", stop or limit
        )
        return order

    def _trade_venue(self, venue: str) -> Any:
        v = self._venues.get(venue)
        if getattr(v, "book", None) is None:
            raise ValueError(
                f"venue {venue!r} ({type(v).__name__}) does not keep trades: SL/TP brackets "
                "and trade closes need a simulated or paper venue"
            )
        return v

    def set_bracket(self, venue: str, trade_id: str, kind: str, price: float | None) -> None:
        """Replace (or cancel, with None) an open trade's stop-loss or take-profit."""
        v = self._trade_venue(venue)
        v.set_bracket(trade_id, kind, price, self._clock.bar)
        self._updates.trades.note_bracket(trade_id, kind, price)

    def close_trade(self, venue: str, trade_id: str, portion: float = 1.0) -> Order | None:
        """A market order closing `portion` of one trade, queued first, through risk.

        A whole-unit trade closes whole units (at least one); a fractional one
        closes exactly `portion` of it."""
        trade = self._trade_venue(venue).book.get(trade_id)
        if trade is None:
            return None
        units = abs(trade.size)
        size = units * portion
        if units == round(units):
            size = float(max(1, round(size)))
        order = self.new_order(
            trade.symbol,
            Side.SELL if trade.size > 0 else Side.BUY,
            min(size, units),
            venue=venue,
            position_type=trade.key.split(":", 2)[1],
            reduce_only=True,
            tag=trade.tag,
            parent_trade=trade.id,
        )
        return self.submit(order, front=True)

    def make_room(self, symbol: str, venue: str) -> None:
        """`exclusive_orders`: cancel the symbol's other orders and close its open trades."""
        v = self._venues.get(venue)
        for order in tuple(v.working):
            if order.symbol == symbol and not order.contingent and order.is_active:
                self.cancel(order, "exclusive_orders: replaced by a new order")
        book = getattr(v, "book", None)
        for trade in list(book or ()):
            if trade.symbol == symbol:
                self.close_trade(venue, trade.id)
