"""The strategy API: vectorized `init`, per-bar `on_bar`, and order helpers.

`init` runs once and should precompute everything it can over the whole
series with NumPy/pandas; `on_bar(i)` then only reads precomputed values by
index. Orders placed in `on_bar(i)` are processed from bar `i + 1` on.

A strategy reaches its run only through a narrow facade: `self.gateway` (an
`OrderGateway`: submit, leg + block, cancel, close — every new order through
risk) and `self.books` (a `BookView`: positions, cash, equity and working
orders, read-only), plus `self.clock` (a read-only `ClockView`). It is built
from the run's execution manager and position monitor but keeps neither.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from isoloop.engine.books import BlockView, BookView, ClockView, OrderView
from isoloop.engine.clock import SimulatedClock
from isoloop.engine.execution import ExecutionManager
from isoloop.engine.gateway import OrderGateway
from isoloop.engine.health import Health, health
from isoloop.engine.indicators import IndicatorMixin
from isoloop.engine.market import AlignedSymbol
from isoloop.engine.positions import PositionMonitor
from isoloop.engine.tradeview import TradeView
from isoloop.errors import OrderArgumentError
from isoloop.model.orders import Side, TimeInForce
from isoloop.model.positions import position_key

__all__ = ["ALL_EQUITY", "Strategy", "resolve_size"]

# backtesting.py's default size (1 − ε): all available margin, in whole units.
ALL_EQUITY = 1.0 - sys.float_info.epsilon


def resolve_size(
    size: float | None, units: float | None = None, fraction: float | None = None
) -> tuple[float, float | None]:
    """(units, equity fraction) of an order, by backtesting.py's rule for `size`.

    Nothing given: all available margin. `0 < size < 1`: that fraction of the
    available margin, in whole units at the fill. `size >= 1`, whole: units. Any
    other size is refused rather than guessed; `units=` (exact, fractional
    allowed) and `fraction=` (0 < f <= 1) say what is meant.
    """
    if units is None and fraction is None:
        return _by_size(size)
    given = [
        n for n, v in (("size", size), ("units", units), ("fraction", fraction)) if v is not None
    ]
    if len(given) > 1:
        raise OrderArgumentError(f"give one of size=, units=, fraction= (got {', '.join(given)})")
    if units is not None:
        u = float(units)
        if not (0.0 < u < math.inf):
            raise OrderArgumentError(f"units must be a number > 0, got {units!r}")
        return u, None
    if fraction is not None:
        f = float(fraction)
        if not (0.0 < f <= 1.0):
            raise OrderArgumentError(
                f"fraction must satisfy 0 < fraction <= 1 (of available margin), got {fraction!r}"
            )
        return 0.0, f
    return _by_size(size)


def _by_size(size: float | None) -> tuple[float, float | None]:
    # `size` alone, the common case: checked without building the list above.
    if size is None:
        return 0.0, ALL_EQUITY
    z = float(size)
    if 0.0 < z < 1.0:
        return 0.0, z
    if 1.0 <= z < math.inf and z == round(z):
        return z, None
    raise OrderArgumentError(
        f"size={size!r} is neither a fraction of equity (0 < size < 1) nor whole units "
        f"(size >= 1); write units={size!r} for fractional units, or fraction= for a "
        "share of equity"
    )


class Strategy(IndicatorMixin):
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
        self.clock = ClockView(clock)
        self.market = clock.market
        self.symbol: str = self.market.primary
        self.data: AlignedSymbol = self.market.symbols[self.symbol]
        self.index: np.ndarray = self.market.index
        # The facade: the managers themselves are not kept on the strategy.
        self.gateway = OrderGateway(execution, positions)
        self.books = BookView(positions, execution.work_lists)
        self.log = log
        self._submit = self.gateway.submit
        self._default_venue = self.gateway.default_venue
        self._held = self.books.positions
        self._keys: dict[tuple[str, str, str], str] = {}
        # A subclass that overrides `order` sees every `buy`/`sell` go through it.
        self._plain_order = type(self).order is Strategy.order

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
            key = self._keys[t] = position_key(*t)
        return key

    def position(
        self, symbol: str | None = None, venue: str | None = None, position_type: str = "spot"
    ) -> float:
        """Signed units held (books of this run)."""
        return self._held.get(self._key(symbol, venue, position_type), 0.0)

    # -- orders --------------------------------------------------------------------
    def order(
        self,
        side: Side,
        size: float | None = None,
        *,
        units: float | None = None,
        fraction: float | None = None,
        symbol: str | None = None,
        venue: str | None = None,
        limit: float | None = None,
        stop: float | None = None,
        sl: float | None = None,
        tp: float | None = None,
        tif: TimeInForce = TimeInForce.GTC,
        position_type: str = "spot",
        tag: str | None = None,
    ) -> OrderView:
        """A new order; `size` follows backtesting.py (see `resolve_size`), `units=` and
        `fraction=` say the same unambiguously. `sl`/`tp` bracket the trade it opens."""
        qty, frac = resolve_size(size, units, fraction)
        return self._submit(
            symbol or self.symbol,
            side,
            qty,
            venue=venue,
            tif=tif,
            limit=limit,
            stop=stop,
            equity_fraction=frac,
            position_type=position_type,
            tag=tag,
            sl=sl,
            tp=tp,
        )

    def buy(self, size: float | None = None, **kw: Any) -> OrderView:
        if kw or not self._plain_order:
            return self.order(Side.BUY, size, **kw)
        # `buy()` / `buy(size)`, the common call: what `order` does with no keyword.
        qty, frac = _by_size(size)
        return self._submit(self.symbol, Side.BUY, qty, equity_fraction=frac)

    def sell(self, size: float | None = None, **kw: Any) -> OrderView:
        if kw or not self._plain_order:
            return self.order(Side.SELL, size, **kw)
        qty, frac = _by_size(size)
        return self._submit(self.symbol, Side.SELL, qty, equity_fraction=frac)

    def close(
        self,
        symbol: str | None = None,
        venue: str | None = None,
        position_type: str = "spot",
        *,
        portion: float = 1.0,
    ) -> OrderView | None:
        """Close `portion` of the position at the next fill (through risk, queued first)."""
        return self.gateway.close(symbol or self.symbol, venue, position_type, portion=portion)

    # -- trades and account ------------------------------------------------------------
    @property
    def trades(self) -> tuple[TradeView, ...]:
        """Open trades, oldest first; `trade.sl`/`trade.tp` may be assigned, `trade.close()`."""
        return self.gateway.trades()

    @property
    def closed_trades(self) -> tuple[TradeView, ...]:
        return self.gateway.closed_trades()

    @property
    def orders(self) -> tuple[OrderView, ...]:
        """Orders still working (SL/TP brackets included), by id."""
        return self.books.working_orders()

    @property
    def equity(self) -> float:
        """Cash plus positions at the current bar's close."""
        return self.books.equity()

    @property
    def cash(self) -> float:
        return self.books.total_cash()

    def target(
        self,
        units: float,
        symbol: str | None = None,
        venue: str | None = None,
        position_type: str = "spot",
    ) -> OrderView | None:
        """Order the difference between the position and `units`."""
        diff = units - self.position(symbol, venue, position_type)
        if not diff:
            return None
        return self.order(
            Side.BUY if diff > 0 else Side.SELL,
            units=abs(diff),
            symbol=symbol,
            venue=venue,
            position_type=position_type,
        )

    def block(self, legs: Sequence[OrderView]) -> BlockView:
        """Submit orders built with `leg(...)` as one atomic instruction block."""
        return self.gateway.block(legs)

    def leg(
        self,
        side: Side,
        size: float,
        *,
        symbol: str | None = None,
        venue: str | None = None,
        position_type: str = "spot",
    ) -> OrderView:
        return self.gateway.leg(
            symbol or self.symbol, side, size, venue=venue, position_type=position_type
        )

    def cancel(self, order: OrderView) -> OrderView:
        return self.gateway.cancel(order)

    def health(self) -> Health:
        return health("healthy", strategy=type(self).__name__, params=self.params)
