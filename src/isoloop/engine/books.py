"""Read-only views a strategy gets of its run: books, orders, blocks and the clock.

A strategy reads its positions, cash, equity and working orders through these
views and never holds the position monitor, the execution manager's order
objects or the clock itself. Mappings are `MappingProxyType`s over the live
books (a write raises `TypeError`); orders and blocks are wrapped in views
whose attributes cannot be assigned (`AttributeError`), so a strategy cannot
resize an order after risk has approved it or edit a queued block.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from isoloop.errors import AtomicGroupError
from isoloop.model.orders import Order, OrderStatus, OrderType, Side, TimeInForce

if TYPE_CHECKING:
    from isoloop.engine.clock import SimulatedClock
    from isoloop.engine.execution import InstructionBlock
    from isoloop.engine.positions import PositionMonitor

__all__ = ["BlockView", "BookView", "ClockView", "OrderView"]


class OrderView:
    """One order as the strategy sees it: every field readable, none assignable."""

    __slots__ = ("_order",)

    def __init__(self, order: Order) -> None:
        self._order = order

    @property
    def id(self) -> str:
        return self._order.id

    @property
    def symbol(self) -> str:
        return self._order.symbol

    @property
    def side(self) -> Side:
        return self._order.side

    @property
    def size(self) -> float:
        return self._order.size

    @property
    def venue(self) -> str:
        return self._order.venue

    @property
    def type(self) -> OrderType:
        return self._order.type

    @property
    def tif(self) -> TimeInForce:
        return self._order.tif

    @property
    def limit(self) -> float | None:
        return self._order.limit

    @property
    def stop(self) -> float | None:
        return self._order.stop

    @property
    def equity_fraction(self) -> float | None:
        return self._order.equity_fraction

    @property
    def sl(self) -> float | None:
        """The stop-loss this order attaches to the trade it opens."""
        return self._order.sl

    @property
    def tp(self) -> float | None:
        """The take-profit this order attaches to the trade it opens."""
        return self._order.tp

    @property
    def parent_trade(self) -> str | None:
        """The trade this order closes (part of): a bracket or a `trade.close()`."""
        return self._order.parent_trade

    @property
    def is_contingent(self) -> bool:
        """True for a trade's SL/TP bracket (one-cancels-other, cancelled with the trade)."""
        return self._order.contingent

    @property
    def position_type(self) -> str:
        return self._order.position_type

    @property
    def reduce_only(self) -> bool:
        return self._order.reduce_only

    @property
    def tag(self) -> str | None:
        return self._order.tag

    @property
    def submitted_bar(self) -> int:
        return self._order.submitted_bar

    @property
    def status(self) -> OrderStatus:
        return self._order.status

    @property
    def reason(self) -> str | None:
        return self._order.reason

    @property
    def filled(self) -> float:
        return self._order.filled

    @property
    def avg_price(self) -> float:
        return self._order.avg_price

    @property
    def last_fill_bar(self) -> int:
        return self._order.last_fill_bar

    @property
    def triggered(self) -> bool:
        return self._order.triggered

    @property
    def sign(self) -> int:
        return self._order.sign

    @property
    def remaining(self) -> float:
        return self._order.remaining

    @property
    def is_active(self) -> bool:
        return self._order.is_active

    @property
    def is_terminal(self) -> bool:
        return self._order.is_terminal

    def to_record(self) -> dict[str, Any]:
        """A copy of the order's canonical record."""
        return self._order.to_record()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OrderView) and other._order is self._order

    def __hash__(self) -> int:
        return hash(self._order.id)

    def __repr__(self) -> str:
        return repr(self._order)


def order_of(view: OrderView) -> Order:
    """The engine's order behind `view` (for the gateway; never handed to a strategy)."""
    return view._order


class BlockView:
    """An instruction block as the strategy sees it: status, legs and unwinds, read-only."""

    __slots__ = ("_block",)

    def __init__(self, block: InstructionBlock) -> None:
        self._block = block

    @property
    def id(self) -> str:
        return self._block.id

    @property
    def status(self) -> str:
        """pending | filled | rolled_back | denied | cancelled"""
        return self._block.status

    @property
    def legs(self) -> tuple[OrderView, ...]:
        return tuple(OrderView(o) for o in self._block.legs)

    @property
    def unwinds(self) -> tuple[OrderView, ...]:
        return tuple(OrderView(o) for o in self._block.unwinds)

    @property
    def error(self) -> AtomicGroupError | None:
        return self._block.error

    def __repr__(self) -> str:
        return f"BlockView({self.id} {self.status}, {len(self._block.legs)} legs)"


class ClockView:
    """The run's clock, read-only: the current bar and the time (no `sleep`, no setting)."""

    __slots__ = ("_clock",)

    def __init__(self, clock: SimulatedClock) -> None:
        self._clock = clock

    @property
    def bar(self) -> int:
        return self._clock.bar

    @property
    def n_bars(self) -> int:
        return self._clock.n_bars

    def now(self) -> float:
        return self._clock.now()


class BookView:
    """The run's books, read-only: positions, cash, equity at the current bar, working orders.

    `positions` and `cash` are live read-only mappings (`MappingProxyType`): they
    always show the current books and raise `TypeError` on any write.
    """

    __slots__ = ("_cash", "_monitor", "_positions", "_work_lists")

    def __init__(self, monitor: PositionMonitor, work_lists: tuple[list[Any], ...]) -> None:
        self._monitor = monitor
        self._positions: Mapping[str, float] = MappingProxyType(monitor.positions)
        self._cash: Mapping[str, float] = MappingProxyType(monitor.cash)
        # (pending instruction blocks, each venue's working orders): the execution
        # manager's own lists, read here and never written.
        self._work_lists = work_lists

    @property
    def positions(self) -> Mapping[str, float]:
        """Signed units per `venue:position_type:symbol` key (read-only, live)."""
        return self._positions

    @property
    def cash(self) -> Mapping[str, float]:
        """Cash per venue (read-only, live)."""
        return self._cash

    def position(self, key: str) -> float:
        return self._positions.get(key, 0.0)

    def total_cash(self) -> float:
        return self._monitor.total_cash()

    def equity(self) -> float:
        """Cash plus every position valued at the current bar's close."""
        return self._monitor.equity()

    def position_value(self, key: str) -> float:
        """The position at `key` valued at the current bar's close."""
        return self._monitor.position_value(key)

    def working_orders(self) -> tuple[OrderView, ...]:
        """Orders not yet done: queued block legs and every venue's working orders, by id."""
        blocks, *venues = self._work_lists
        found: list[Order] = [leg for b in blocks for leg in b.legs if not leg.is_terminal]
        for working in venues:
            found.extend(o for o in working if not o.is_terminal)
        found.sort(key=lambda o: (len(o.id), o.id))
        return tuple(OrderView(o) for o in found)
