"""The strategy API: vectorized `init`, per-bar `on_bar`, and order helpers.

`init` runs once and should precompute everything it can over the whole
series with NumPy/pandas; `on_bar(i)` then only reads precomputed values by
index. Orders placed in `on_bar(i)` are processed from bar `i + 1` on.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from isoloop.engine.clock import SimulatedClock
from isoloop.engine.execution import ExecutionManager, InstructionBlock
from isoloop.engine.health import Health, health
from isoloop.engine.market import AlignedSymbol
from isoloop.engine.positions import PositionMonitor
from isoloop.model.orders import Order, Side, TimeInForce

__all__ = ["ALL_EQUITY", "Strategy"]

# backtesting.py's default size (1 − ε): all available margin, in whole units.
ALL_EQUITY = 1.0 - sys.float_info.epsilon


class Strategy:
    """Base class. Subclasses override `init` and `on_bar`, optionally `validate_params`.

    `warmup` bars are skipped before the first `on_bar` call; like backtesting.py
    the first call is at bar `1 + warmup` (bar 0 has no previous bar).
    """

    warmup: int = 0

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        clock: SimulatedClock,
        execution: ExecutionManager,
        positions: PositionMonitor,
        log: Any,
    ) -> None:
        self.params: dict[str, Any] = self.validate_params(dict(params or {}))
        self.clock = clock
        self.market = clock.market
        self.symbol: str = self.market.primary
        self.data: AlignedSymbol = self.market.symbols[self.symbol]
        self.index: np.ndarray = self.market.index
        self.execution = execution
        self.positions = positions
        self.log = log
        self._new_order = execution.new_order
        self._submit = execution.submit
        self._default_venue = execution.default_venue
        self._books = positions.positions
        self._keys: dict[tuple[str, str, str], str] = {}

    def validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Check and normalize parameters; raise `StrategyParamError` naming the bad one."""
        return params

    def init(self) -> None:
        """Precompute indicators over the whole series (vectorized)."""

    def on_bar(self, i: int) -> None:
        """React to bar `i` (its OHLCV is final)."""

    # -- position ----------------------------------------------------------------
    def _key(self, symbol: str | None, venue: str | None, position_type: str) -> str:
        t = (venue or self._default_venue, position_type, symbol or self.symbol)
        key = self._keys.get(t)
        if key is None:
            key = self._keys[t] = f"{t[0]}:{t[1]}:{t[2]}"
        return key

    def position(
        self, symbol: str | None = None, venue: str | None = None, position_type: str = "spot"
    ) -> float:
        """Signed units held (books of this run)."""
        return self._books.get(self._key(symbol, venue, position_type), 0.0)

    # -- orders --------------------------------------------------------------------
    def order(
        self,
        side: Side,
        size: float | None = None,
        *,
        symbol: str | None = None,
        venue: str | None = None,
        limit: float | None = None,
        stop: float | None = None,
        tif: TimeInForce = TimeInForce.GTC,
        position_type: str = "spot",
        tag: str | None = None,
    ) -> Order:
        """`size` in units; `None` means all available equity (sized at the fill)."""
        o = self._new_order(
            symbol or self.symbol,
            side,
            0.0 if size is None else size,
            venue=venue,
            tif=tif,
            limit=limit,
            stop=stop,
            equity_fraction=ALL_EQUITY if size is None else None,
            position_type=position_type,
            tag=tag,
        )
        return self._submit(o)

    def buy(self, size: float | None = None, **kw: Any) -> Order:
        return self.order(Side.BUY, size, **kw)

    def sell(self, size: float | None = None, **kw: Any) -> Order:
        return self.order(Side.SELL, size, **kw)

    def close(
        self, symbol: str | None = None, venue: str | None = None, position_type: str = "spot"
    ) -> Order | None:
        """Flatten the position at the next fill (a reduce-only market order)."""
        qty = self._books.get(self._key(symbol, venue, position_type), 0.0)
        if not qty:
            return None
        o = self._new_order(
            symbol or self.symbol,
            Side.SELL if qty > 0 else Side.BUY,
            abs(qty),
            venue=venue,
            position_type=position_type,
            reduce_only=True,
        )
        return self._submit(o)

    def target(
        self,
        units: float,
        symbol: str | None = None,
        venue: str | None = None,
        position_type: str = "spot",
    ) -> Order | None:
        """Order the difference between the position and `units`."""
        diff = units - self.position(symbol, venue, position_type)
        if not diff:
            return None
        return self.order(
            Side.BUY if diff > 0 else Side.SELL,
            abs(diff),
            symbol=symbol,
            venue=venue,
            position_type=position_type,
        )

    def block(self, legs: list[Order]) -> InstructionBlock:
        """Submit orders built with `leg(...)` as one atomic instruction block."""
        return self.execution.submit_block(legs)

    def leg(
        self,
        side: Side,
        size: float,
        *,
        symbol: str | None = None,
        venue: str | None = None,
        position_type: str = "spot",
    ) -> Order:
        return self._new_order(
            symbol or self.symbol, side, size, venue=venue, position_type=position_type
        )

    def cancel(self, order: Order) -> Order:
        return self.execution.cancel(order)

    def health(self) -> Health:
        return health("healthy", strategy=type(self).__name__, params=self.params)
