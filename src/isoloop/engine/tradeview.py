"""Trades as a strategy sees them: read-only figures, and the three things it may change.

An open trade's `sl` and `tp` can be assigned (a price replaces the bracket
order, None cancels it) and `close(portion)` queues a market order for part of
it; everything else is read-only. Open trades read the books' ledger (what the
fills say), not the venue; their `pl` counts no commission until they close,
like backtesting.py's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from isoloop.engine.trades import ClosedTrade, OpenLot

if TYPE_CHECKING:
    from isoloop.engine.gateway import OrderGateway

__all__ = ["TradeView"]


class TradeView:
    """One trade of this run, open (`exit_bar` is None) or closed."""

    __slots__ = ("_closed", "_gw", "_lot")

    def __init__(
        self, gateway: OrderGateway, lot: OpenLot | None = None, closed: ClosedTrade | None = None
    ) -> None:
        self._gw = gateway
        self._lot = lot
        self._closed = closed

    # -- identity ----------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._lot.id if self._lot is not None else self._c.id

    @property
    def _c(self) -> ClosedTrade:
        assert self._closed is not None
        return self._closed

    @property
    def symbol(self) -> str:
        return self._lot.symbol if self._lot is not None else self._c.symbol

    @property
    def venue(self) -> str:
        return self._lot.venue if self._lot is not None else self._c.venue

    @property
    def tag(self) -> str | None:
        return self._lot.tag if self._lot is not None else self._c.tag

    @property
    def is_open(self) -> bool:
        return self._lot is not None

    # -- figures -------------------------------------------------------------------
    @property
    def size(self) -> float:
        """Signed units (negative for a short); an open trade's shrink as parts close."""
        return self._lot.size if self._lot is not None else self._c.size

    @property
    def is_long(self) -> bool:
        return self.size > 0

    @property
    def is_short(self) -> bool:
        return self.size < 0

    @property
    def entry_price(self) -> float:
        return self._lot.price if self._lot is not None else self._c.entry_price

    @property
    def entry_bar(self) -> int:
        return self._lot.bar if self._lot is not None else self._c.entry_bar

    @property
    def entry_time(self) -> pd.Timestamp:
        return self._gw.time_of(self.entry_bar)

    @property
    def exit_price(self) -> float | None:
        return None if self._lot is not None else self._c.exit_price

    @property
    def exit_bar(self) -> int | None:
        return None if self._lot is not None else self._c.exit_bar

    @property
    def exit_time(self) -> pd.Timestamp | None:
        bar = self.exit_bar
        return None if bar is None else self._gw.time_of(bar)

    def _price(self) -> float:
        if self._lot is None:
            return self._c.exit_price
        return self._gw.last_close(self._lot.symbol)

    @property
    def pl(self) -> float:
        """Profit or loss in cash: unrealized at the current close while open (before
        commissions), realized net of both commissions once closed."""
        if self._lot is None:
            return self._c.pnl
        return self._lot.size * (self._price() - self._lot.price)

    @property
    def pl_pct(self) -> float:
        """`pl` relative to the entry value, as a fraction (0.05 is 5%)."""
        if self._lot is None:
            return self._c.return_pct
        return math.copysign(1.0, self._lot.size) * (self._price() / self._lot.price - 1.0)

    @property
    def value(self) -> float:
        """|size| × the current close (open) or the exit price (closed)."""
        return abs(self.size) * self._price()

    @property
    def commissions(self) -> float:
        """Fees assigned to the trade: none while open, entry + exit once closed."""
        return 0.0 if self._lot is not None else self._c.commission

    # -- what a strategy may change -----------------------------------------------
    @property
    def sl(self) -> float | None:
        return self._gw.brackets(self.id)[0] if self._lot is not None else self._c.sl

    @sl.setter
    def sl(self, price: float | None) -> None:
        self._gw.set_bracket(self._open_lot("sl"), "sl", price)

    @property
    def tp(self) -> float | None:
        return self._gw.brackets(self.id)[1] if self._lot is not None else self._c.tp

    @tp.setter
    def tp(self, price: float | None) -> None:
        self._gw.set_bracket(self._open_lot("tp"), "tp", price)

    def close(self, portion: float = 1.0) -> None:
        """Queue a market order closing `portion` (0 < portion ≤ 1) of this trade."""
        self._gw.close_trade(self._open_lot("close"), portion)

    def _open_lot(self, what: str) -> OpenLot:
        lot = self._lot
        if lot is None or lot.size == 0.0:
            raise ValueError(f"trade {self.id} is closed; cannot {what} it")
        return lot

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TradeView) and (other._lot or other._closed) is (
            self._lot or self._closed
        )

    def __hash__(self) -> int:
        return hash((self.id, self.entry_bar, self.is_open))

    def __repr__(self) -> str:
        state = "open" if self._lot is not None else f"closed@{self.exit_bar}"
        return (
            f"TradeView({self.id} {self.symbol} size={self.size:g} "
            f"entry={self.entry_price:g}@{self.entry_bar} {state})"
        )
