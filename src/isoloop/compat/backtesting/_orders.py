"""backtesting.py's `Position` and `Order` objects over isoloop's native order views.

Trades need no wrapper: the native `TradeView` already has backtesting.py's
attributes (`size` signed, `entry_price`, `entry_bar`, `pl`, `pl_pct` as a
fraction, `sl`/`tp` assignable, `close(portion)`). Orders do: backtesting.py
shows a signed `size` (negative for a sell, a fraction for equity-sized orders).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from isoloop.engine.books import OrderView

if TYPE_CHECKING:
    from isoloop.compat.backtesting._strategy import Strategy

__all__ = ["Order", "Position"]


class Position:
    """The strategy's position in its symbol; truthy when not flat.

    Calling it (`self.position()`) still gives the native signed units, so
    isoloop code that calls `position()` keeps working on a compat strategy.
    """

    __slots__ = ("_strategy",)

    def __init__(self, strategy: Strategy) -> None:
        self._strategy = strategy

    def __call__(
        self, symbol: str | None = None, venue: str | None = None, position_type: str = "spot"
    ) -> float:
        return self._strategy._units(symbol, venue, position_type)

    @property
    def size(self) -> float:
        """Signed units held (negative when short)."""
        return self._strategy._units(None, None, "spot")

    @property
    def pl(self) -> float:
        """Unrealized profit of the open trades at the current close (commissions not included)."""
        price = self._strategy._last_close()
        return float(sum(t.size * (price - t.entry_price) for t in self._strategy.trades))

    @property
    def pl_pct(self) -> float:
        """`pl` in percent of what the open trades cost at entry (0 when flat)."""
        invested = sum(abs(t.size) * t.entry_price for t in self._strategy.trades)
        return self.pl / invested * 100.0 if invested else 0.0

    @property
    def is_long(self) -> bool:
        return self.size > 0

    @property
    def is_short(self) -> bool:
        return self.size < 0

    def __bool__(self) -> bool:
        return self.size != 0

    def close(self, portion: float = 1.0) -> None:
        """Close `portion` of every open trade at the next fill (market orders)."""
        self._strategy._close_portion(portion)

    def __repr__(self) -> str:
        return f"<Position: {self.size} ({len(self._strategy.trades)} trades)>"


class Order:
    """A working order as backtesting.py shows it: signed `size`, `cancel()`, `is_contingent`."""

    __slots__ = ("_strategy", "_view")

    def __init__(self, strategy: Strategy, view: OrderView) -> None:
        self._strategy = strategy
        self._view = view

    @property
    def size(self) -> float:
        """Units, or the equity fraction for orders sized at the fill; negative for a sell."""
        v = self._view
        fraction = v.equity_fraction
        amount = fraction if fraction is not None and not v.size else v.size
        return math.copysign(amount, v.sign)

    @property
    def limit(self) -> float | None:
        return self._view.limit

    @property
    def stop(self) -> float | None:
        return self._view.stop

    @property
    def sl(self) -> float | None:
        return self._view.sl

    @property
    def tp(self) -> float | None:
        return self._view.tp

    @property
    def tag(self) -> Any:
        return self._view.tag

    @property
    def parent_trade(self) -> Any:
        """The open trade this order closes or protects (None for an entry order)."""
        trade_id = self._view.parent_trade
        if trade_id is None:
            return None
        for trade in self._strategy.trades:
            if trade.id == trade_id:
                return trade
        return None

    @property
    def is_long(self) -> bool:
        return self.size > 0

    @property
    def is_short(self) -> bool:
        return self.size < 0

    @property
    def is_contingent(self) -> bool:
        """True for a stop-loss or take-profit order attached to an open trade."""
        return self._view.is_contingent

    def cancel(self) -> None:
        self._strategy.cancel(self._view)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Order) and other._view == self._view

    def __hash__(self) -> int:
        return hash(self._view)

    def __repr__(self) -> str:
        parts = [("size", self.size), ("limit", self.limit), ("stop", self.stop)]
        parts += [("sl", self.sl), ("tp", self.tp), ("tag", self.tag)]
        shown = ", ".join(f"{k}={v!r}" for k, v in parts if v is not None)
        return f"<Order {shown}{', contingent' if self.is_contingent else ''}>"
