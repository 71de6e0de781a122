"""The order gateway: everything a strategy may do to its run, and nothing more.

New orders, instruction blocks and closes all go through the risk manager's
pre-trade checks (there is no way to skip them from here); cancels always pass,
as they do for the execution manager. The gateway hands back read-only
`OrderView`s and `BlockView`s, never the engine's own order objects, and it
never exposes the execution manager, the books or the risk manager.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from isoloop.engine.books import BlockView, OrderView, order_of
from isoloop.engine.execution import ExecutionManager
from isoloop.engine.positions import PositionMonitor
from isoloop.model.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from isoloop.model.positions import position_key

__all__ = ["OrderGateway"]


class OrderGateway:
    """`submit`, `leg` + `block`, `cancel` and `close` for one run's strategy."""

    __slots__ = ("_cancel", "_drafts", "_held", "_new_order", "_submit", "_submit_block", "_venue")

    def __init__(self, execution: ExecutionManager, positions: PositionMonitor) -> None:
        # Only the calls a strategy may make are kept (resolved once: this is the
        # order path); `submit` is never called with `skip_risk` or `front`.
        self._new_order = execution.new_order
        self._submit = execution.submit
        self._submit_block = execution.submit_block
        self._cancel = execution.cancel
        self._venue = execution.default_venue
        self._held: Mapping[str, float] = MappingProxyType(positions.positions)
        # Legs drafted with `leg` and not yet sent in a block, by order id.
        self._drafts: dict[str, Order] = {}

    @property
    def default_venue(self) -> str:
        return self._venue

    def submit(
        self,
        symbol: str,
        side: Side,
        size: float = 0.0,
        *,
        venue: str | None = None,
        type: OrderType | None = None,
        tif: TimeInForce = TimeInForce.GTC,
        limit: float | None = None,
        stop: float | None = None,
        equity_fraction: float | None = None,
        position_type: str = "spot",
        reduce_only: bool = False,
        tag: str | None = None,
    ) -> OrderView:
        """A new order with the run's next id, through the pre-trade checks and the tight loop.

        A denied order comes back DENIED with the reason; nothing reached a venue.
        """
        order = self._new_order(
            symbol,
            side,
            size,
            venue=venue,
            type=type,
            tif=tif,
            limit=limit,
            stop=stop,
            equity_fraction=equity_fraction,
            position_type=position_type,
            reduce_only=reduce_only,
            tag=tag,
        )
        return OrderView(self._submit(order))

    def close(
        self,
        symbol: str,
        venue: str | None = None,
        position_type: str = "spot",
        tag: str | None = None,
    ) -> OrderView | None:
        """Flatten a position with a reduce-only market order (through risk); None when flat."""
        qty = self._held.get(position_key(venue or self._venue, position_type, symbol), 0.0)
        if not qty:
            return None
        return self.submit(
            symbol,
            Side.SELL if qty > 0 else Side.BUY,
            abs(qty),
            venue=venue,
            position_type=position_type,
            reduce_only=True,
            tag=tag,
        )

    def leg(
        self,
        symbol: str,
        side: Side,
        size: float,
        *,
        venue: str | None = None,
        position_type: str = "spot",
        tag: str | None = None,
    ) -> OrderView:
        """Draft one market leg of an instruction block; nothing is sent until `block`."""
        order = self._new_order(
            symbol, side, size, venue=venue, position_type=position_type, tag=tag
        )
        self._drafts[order.id] = order
        return OrderView(order)

    def block(self, legs: Sequence[OrderView]) -> BlockView:
        """Send drafted legs as one atomic block: every leg passes the pre-trade checks
        now (one denial denies the block), then they execute in sequence at the next bar
        and filled legs are unwound if a later one fails (EXEC-006)."""
        orders: list[Order] = []
        for view in legs:
            if not isinstance(view, OrderView):
                raise TypeError(f"block: legs must come from leg(), got {type(view).__name__}")
            order = self._drafts.get(view.id)
            if order is None or order is not order_of(view) or order in orders:
                raise ValueError(
                    f"block: leg {view.id} is not a leg drafted with leg() that is still "
                    "unsent; draft each leg once and send it in one block"
                )
            orders.append(order)
        for order in orders:
            del self._drafts[order.id]
        return BlockView(self._submit_block(orders))

    def cancel(self, order: OrderView) -> OrderView:
        """Cancel a working order (cancels pass whatever the kill switch says)."""
        if not isinstance(order, OrderView):
            raise TypeError(f"cancel: expected an order this strategy placed, got {order!r}")
        o = order_of(order)
        if o.status is OrderStatus.VALIDATED:
            raise ValueError(
                f"cancel: order {o.id} is a leg of a queued instruction block; "
                "a block runs as one unit and its legs cannot be cancelled one by one"
            )
        self._cancel(o)
        return order

    def __repr__(self) -> str:
        return f"OrderGateway(default_venue={self._venue!r})"
