"""The order gateway: everything a strategy may do to its run, and nothing more.

New orders, instruction blocks and closes all go through the risk manager's
pre-trade checks (there is no way to skip them from here); cancels always pass,
as they do for the execution manager. The gateway hands back read-only
`OrderView`s and `BlockView`s, never the engine's own order objects, and it
never exposes the execution manager, the books or the risk manager.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from isoloop.engine.books import BlockView, OrderView, order_of
from isoloop.engine.execution import ExecutionManager
from isoloop.engine.positions import PositionMonitor
from isoloop.engine.trades import OpenLot
from isoloop.engine.tradeview import TradeView
from isoloop.errors import OrderArgumentError
from isoloop.model.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from isoloop.model.positions import position_key

__all__ = ["OrderGateway", "check_portion"]


def check_portion(portion: float) -> None:
    if not (0.0 < portion <= 1.0):
        raise OrderArgumentError(
            f"portion must be a fraction with 0 < portion <= 1 (1 closes all), got {portion!r}"
        )


class OrderGateway:
    """`submit`, `leg` + `block`, `cancel` and `close` for one run's strategy."""

    __slots__ = (
        "_cancel",
        "_closed_views",
        "_drafts",
        "_exclusive",
        "_exec",
        "_held",
        "_ledger",
        "_market",
        "_submit_block",
        "_venue",
    )

    def __init__(self, execution: ExecutionManager, positions: PositionMonitor) -> None:
        # Orders go through `self._exec` itself, not bound methods kept here: compiled
        # (tools/compile.py), a call on the typed manager is a direct C call, while a
        # stored bound method is a generic call that packs and parses its keywords.
        self._submit_block = execution.submit_block
        self._cancel = execution.cancel
        self._venue = execution.default_venue
        # The books' positions, only ever read here (the strategy reaches them through
        # read-only views); the dict itself, so a compiled lookup is a direct one.
        self._held: dict[str, float] = positions.positions
        # Legs drafted with `leg` and not yet sent in a block, by order id.
        self._drafts: dict[str, Order] = {}
        # The strategy never sees the execution manager (nor this attribute: the strategy
        # holds the gateway, whose slots are private).
        self._exec = execution
        self._ledger = execution.ledger
        self._market = execution.clock.market
        self._closed_views: list[TradeView] = []
        self._exclusive = bool(execution.venue_setting(None, "exclusive_orders", False))

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
        sl: float | None = None,
        tp: float | None = None,
    ) -> OrderView:
        """A new order with the run's next id, through the pre-trade checks and the tight loop.

        A denied order comes back DENIED with the reason; nothing reached a venue.
        `sl`/`tp` attach a stop-loss/take-profit to the trade the order opens.
        """
        return self._place(
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
            sl=sl,
            tp=tp,
        )

    def _place(
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
        sl: float | None = None,
        tp: float | None = None,
        front: bool = False,
    ) -> OrderView:
        # `front` (queue ahead) is for this gateway's closes only, never a strategy's orders.
        if sl is not None or tp is not None:
            self._check_brackets(symbol, side, venue, limit, stop, sl, tp)
        if self._exclusive and not reduce_only:
            self._exec.make_room(symbol, venue or self._venue)
        order = self._exec.new_order(
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
            sl=sl,
            tp=tp,
        )
        return OrderView(self._exec.submit(order, front=front))

    def close(
        self,
        symbol: str,
        venue: str | None = None,
        position_type: str = "spot",
        tag: str | None = None,
        portion: float = 1.0,
    ) -> OrderView | None:
        """Close `portion` of a position (through risk), queued ahead of other orders.

        A position of one trade closes with one reduce-only market order (None when
        flat); a part, or a position of several trades (pyramided or hedged), closes
        that part of each trade (returns None: the orders are in `working_orders`)."""
        check_portion(portion)
        key = position_key(venue or self._venue, position_type, symbol)
        lots = self._ledger.lots_of(key)
        if portion < 1.0 or len(lots) > 1:
            # Trade by trade, each close queued first: the newest trade closes first,
            # as backtesting.py's position.close() does.
            for lot in tuple(lots):
                self.close_trade(lot, portion)
            return None
        qty = self._held.get(key, 0.0)
        if not qty:
            return None
        return self._place(
            symbol,
            Side.SELL if qty > 0 else Side.BUY,
            abs(qty),
            venue=venue,
            position_type=position_type,
            reduce_only=True,
            tag=tag,
            front=True,
        )

    # -- trades -----------------------------------------------------------------------
    def trades(self) -> tuple[TradeView, ...]:
        """Open trades, oldest first."""
        return tuple(TradeView(self, lot) for lot in self._ledger.open_trades())

    def closed_trades(self) -> tuple[TradeView, ...]:
        """Closed trades (a partly closed trade's closed part is one), in closing order."""
        views = self._closed_views
        closed = self._ledger.closed
        if len(views) < len(closed):
            views.extend(TradeView(self, closed=c) for c in closed[len(views) :])
        return tuple(views)

    def brackets(self, trade_id: str) -> tuple[float | None, float | None]:
        return self._ledger.brackets(trade_id)

    def set_bracket(self, lot: OpenLot, kind: str, price: float | None) -> None:
        if price is not None:
            price = float(price)
            if not (0.0 < price < math.inf):
                raise OrderArgumentError(
                    f"trade {lot.id}: {kind} must be a price > 0 (or None to cancel it), "
                    f"got {price!r}"
                )
        self._exec.set_bracket(lot.venue, lot.id, kind, price)

    def close_trade(self, lot: OpenLot, portion: float = 1.0) -> None:
        check_portion(portion)
        self._exec.close_trade(lot.venue, lot.id, portion)

    def last_close(self, symbol: str) -> float:
        return self._market.symbols[symbol].close_l[self._exec.clock.bar]

    def time_of(self, bar: int) -> pd.Timestamp:
        return pd.Timestamp(self._market.index[bar])

    def _check_brackets(
        self,
        symbol: str,
        side: Side,
        venue: str | None,
        limit: float | None,
        stop: float | None,
        sl: float | None,
        tp: float | None,
    ) -> None:
        """backtesting.py's rule: long SL < entry < TP, short TP < entry < SL, where the
        entry is the limit, else the stop, else the current close adjusted for spread."""
        spread = float(self._exec.venue_setting(venue, "spread", 0.0))
        ref = limit if limit is not None else stop
        if ref is None:
            ref = self.last_close(symbol) * (1.0 + side.sign * spread)
        lo, hi = (sl, tp) if side is Side.BUY else (tp, sl)
        if not ((lo if lo is not None else -math.inf) < ref < (hi if hi is not None else math.inf)):
            order = "SL < entry < TP" if side is Side.BUY else "TP < entry < SL"
            raise OrderArgumentError(
                f"{side.value.lower()} {symbol}: brackets must satisfy {order}; got sl={sl!r}, "
                f"entry={ref!r}, tp={tp!r}"
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
        order = self._exec.new_order(
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
        if o.contingent and o.parent_trade is not None and o.status is OrderStatus.CANCELLED:
            # A cancelled bracket leaves its trade without that SL/TP (trade.sl is None).
            kind = "sl" if o.type is OrderType.STOP else "tp"
            self._ledger.note_bracket(o.parent_trade, kind, None)
        return order

    def __repr__(self) -> str:
        return f"OrderGateway(default_venue={self._venue!r})"
