"""A simulated broker with backtesting.py's fill semantics as the default.

Orders placed on bar *i* are processed at the start of bar *i+1*: market
orders fill at that bar's open (or at bar *i*'s close with `fill.on: close`),
stop and limit orders trigger inside the bar's high/low and fill at the open
when the bar gaps through. With `fill.price: vwap` a market order (and a
triggered stop, never better than its stop) fills at the bar's OHLC average
(O+H+L+C)/4, the only per-bar VWAP estimate OHLCV bars allow; limit orders
ignore it. An order filled over several bars (`fill.volume_limit`) records the
volume-weighted mean of its fills (`Order.record_fill`): its real VWAP.
A position is netted per key; a fill that flips a
position closes at the raw price and opens at the spread-adjusted price, like
backtesting.py's FIFO trades. `equity_fraction` orders are sized at fill time
in whole units from the available margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mypy_extensions import mypyc_attr

from isoloop.config.models import VenueConfig
from isoloop.engine.clock import SimulatedClock
from isoloop.engine.health import Health, health
from isoloop.engine.market import AlignedSymbol
from isoloop.engine.venue import HandshakeSink
from isoloop.model.events import AccountSnapshot, ExecutionHandshake
from isoloop.model.orders import ACTIVE_STATUSES, Order, OrderStatus, OrderType, Side, TimeInForce
from isoloop.model.positions import PositionKey
from isoloop.venues.accounting import OrderFactory, TradeAccounting
from isoloop.venues.costs import (
    CommissionModel,
    SlippageModel,
    commission_from_config,
    slippage_from_config,
)
from isoloop.venues.tradebook import TradeBook

__all__ = ["SimulatedVenue"]

_ACCEPTED = OrderStatus.ACCEPTED
_CANCELLED = OrderStatus.CANCELLED
_REJECTED = OrderStatus.REJECTED
_EXPIRED = OrderStatus.EXPIRED
_DAY = TimeInForce.DAY
_IOC = TimeInForce.IOC
_FOK = TimeInForce.FOK
_BUY = Side.BUY
_ACTIVE = ACTIVE_STATUSES


# A user's venue may subclass it (in Python) while this class is compiled (tools/compile.py).
@mypyc_attr(allow_interpreted_subclasses=True)
class SimulatedVenue(TradeAccounting):
    """One simulated account: cash, positions made of trades, and a queue of working orders.

    `settlement_delay` (seconds of the run's clock) makes the reported cash lag
    the true cash after a fill, the way a real venue's account endpoint can; the
    execution manager's reconciliation retries absorb such lags.
    """

    def __init__(
        self,
        settings: VenueConfig,
        clock: SimulatedClock,
        log: Any,
        name: str | None = None,
        settlement_delay: float = 0.0,
    ) -> None:
        self.name = name or settings.name
        self.settings = settings
        self._clock = clock
        self._market = clock.market
        self._log = log
        self._cash0 = float(settings.cash)
        self.cash = float(settings.cash)
        self.positions: dict[str, float] = {}
        self.working: list[Order] = []
        self.book = TradeBook(self.name)
        self._leverage = 1.0 / settings.margin
        self._hedging = settings.hedging
        self.exclusive_orders = settings.exclusive_orders
        self._reprocess = False
        self._make_order: OrderFactory | None = None
        self._key_close: dict[str, Sequence[float]] = {}
        self.commission: CommissionModel = commission_from_config(settings)
        self.slippage: SlippageModel = slippage_from_config(settings.slippage, settings.spread)
        # backtesting.py's spread adjusts only the opening price; a `spread` slippage
        # model replaces it with half the spread on every fill.
        self._entry_spread = settings.spread if settings.slippage.model != "spread" else 0.0
        self._on_close = settings.fill.on == "close"
        self._vwap = settings.fill.price == "vwap"
        self._volume_limit = settings.fill.volume_limit
        self._taken: dict[str, float] = {}
        self._taken_bar = -1
        self._settlement_delay = float(settlement_delay)
        self._unsettled: list[tuple[float, float]] = []
        self.fills = 0
        self.rejections = 0

    # -- account ---------------------------------------------------------------
    def bind_orders(self, make_order: OrderFactory) -> None:
        """Let the run's execution manager number and register the orders this venue
        creates itself (a trade's stop-loss and take-profit)."""
        self._make_order = make_order

    def restore(
        self, cash: float, positions: dict[str, float], working: list[Order], fills: int
    ) -> None:
        """Resume an account kept elsewhere (a persisted paper account after a restart).

        Each restored position becomes one trade at the last close (its entry
        price is not kept by the store)."""
        self.cash = cash
        self.positions = {k: q for k, q in positions.items() if q}
        for key, qty in self.positions.items():
            symbol = PositionKey.parse(key).symbol
            closes = self._key_close[key] = self._market[symbol].close_l
            bar = max(self._clock.bar, 0)
            self.book.add(key, symbol, qty, closes[bar], bar, None)
        # A restored SL/TP protects the trade its position became (one per position).
        for order in working:
            if order.contingent and order.parent_trade is not None:
                key = f"{order.venue}:{order.position_type}:{order.symbol}"
                trades = self.book.of_key(key)
                if len(trades) == 1:
                    trade = trades[0]
                    order.parent_trade = trade.id
                    if order.type is OrderType.STOP:
                        trade.sl_order = order
                    else:
                        trade.tp_order = order
        self.working = working
        self.fills = fills

    def initial_cash(self) -> float:
        return self._cash0

    def reported_cash(self) -> float:
        if not self._unsettled:
            return self.cash
        now = self._clock.now()
        self._unsettled = [(t, d) for t, d in self._unsettled if t > now]
        return self.cash - sum(d for _, d in self._unsettled)

    def reported_positions(self) -> dict[str, float]:
        return self.positions

    def account(self) -> AccountSnapshot:
        return AccountSnapshot(self.name, self.reported_cash(), dict(self.positions))

    def equity(self, bar: int) -> float:
        eq = self.cash
        for key, qty in self.positions.items():
            if qty:
                eq += qty * self._key_close[key][bar]
        return eq

    # -- order entry -----------------------------------------------------------
    def submit(self, order: Order, front: bool = False) -> ExecutionHandshake:
        if order.symbol not in self._market.symbols:
            return self._reject(order, f"unknown symbol {order.symbol!r} on venue {self.name!r}")
        order.transition(_ACCEPTED)
        if front:
            self.working.insert(0, order)
        else:
            self.working.append(order)
        return ExecutionHandshake(order.id, self.name, _ACCEPTED, bar=self._clock.bar)

    def _reject(self, order: Order, reason: str) -> ExecutionHandshake:
        order.transition(_REJECTED, reason)
        self.rejections += 1
        return ExecutionHandshake(
            order.id, self.name, _REJECTED, bar=self._clock.bar, reason=reason
        )

    def cancel(self, order: Order, reason: str) -> ExecutionHandshake:
        if order.is_active:
            if order.status is not OrderStatus.PENDING_CANCEL:
                order.transition(OrderStatus.PENDING_CANCEL)
            order.transition(_CANCELLED, reason)
            if order in self.working:
                self.working.remove(order)
        return ExecutionHandshake(
            order.id, self.name, order.status, bar=self._clock.bar, reason=reason
        )

    def expire(self, order: Order, reason: str) -> ExecutionHandshake:
        order.transition(_EXPIRED, reason)
        if order in self.working:
            self.working.remove(order)
        return ExecutionHandshake(order.id, self.name, _EXPIRED, bar=self._clock.bar, reason=reason)

    # -- matching ----------------------------------------------------------------
    def process_bar(self, bar: int, sink: HandshakeSink, final: bool = False) -> None:
        # Orders in queue order; a market entry that got brackets asks for another
        # pass so they can fill in the bar it entered (backtesting.py's rule).
        while True:
            self._reprocess = False
            for order in tuple(self.working):
                if order.status in _ACTIVE:
                    hs = self._try_fill(order, bar, final)
                    if hs is not None:
                        sink(order, hs)
            if not self._reprocess:
                return

    def execute_now(self, order: Order, bar: int) -> ExecutionHandshake:
        """Fill a ROUTED market order at `bar`'s fill price now (a leg of a block)."""
        hs = self.submit(order)
        if hs.status is _REJECTED:
            return hs
        return self.fill_now(order, bar)

    def fill_now(self, order: Order, bar: int) -> ExecutionHandshake:
        """Fill an accepted working order at `bar` now; cancel what does not fill.

        The second half of `execute_now`, for a venue that wraps this one and
        submits the order its own way first."""
        saved = order.submitted_bar
        order.submitted_bar = min(saved, bar - 1)
        result = self._try_fill(order, bar)
        order.submitted_bar = saved
        if result is None:
            result = self.cancel(order, "not fillable at this bar")
        elif order.is_active:
            self.cancel(order, "block leg not completely filled")
            result = ExecutionHandshake(
                result.order_id,
                self.name,
                order.status,
                result.fills,
                result.deltas,
                result.cash_delta,
                result.fees,
                result.bar,
                order.reason,
            )
        return result

    def liquidate(self, order: Order, bar: int) -> ExecutionHandshake:
        order.transition(_ACCEPTED)
        self.working.append(order)
        sym = self._market.symbols[order.symbol]
        hs = self._execute(
            order, sym, bar, time_index=bar, price=sym.close_l[bar], sign=order.sign, final=True
        )
        if hs is None:  # pragma: no cover - a reduce-only final fill always answers
            return self.cancel(order, "nothing to liquidate")
        return hs

    def write_off(self) -> ExecutionHandshake:
        delta = -self.cash
        self.cash = 0.0
        self._unsettled.clear()
        return ExecutionHandshake(
            "WRITE-OFF",
            self.name,
            OrderStatus.FILLED,
            cash_delta=delta,
            bar=self._clock.bar,
            reason="out of money",
        )

    def _unfilled(self, order: Order, reason: str) -> ExecutionHandshake | None:
        if order.tif is _IOC or order.tif is _FOK:
            return self.cancel(order, reason)
        return None

    def _try_fill(self, order: Order, i: int, final: bool = False) -> ExecutionHandshake | None:
        if order.submitted_bar >= i and not final:
            return None
        sym: AlignedSymbol = self._market.symbols[order.symbol]
        if sym.has_bar_l is not None and not sym.has_bar_l[i]:
            if not (final and order.flatten):
                return None
            # The end-of-run close of a symbol that has no bar at the last clock step
            # (a union clock): at its last traded close, carried to this step.
            return self._execute(
                order, sym, i, time_index=i, price=sym.close_l[i], sign=order.sign, final=True
            )
        if order.tif is _DAY and self._market.days[i] != self._market.days[order.submitted_bar]:
            return self.expire(order, "DAY order not filled by the end of its day")

        sign = 1 if order.side is _BUY else -1
        high = sym.high_l[i]
        low = sym.low_l[i]
        stop = None if order.triggered else order.stop
        if stop is not None:
            if not (high >= stop if sign > 0 else low <= stop):
                return self._unfilled(order, "stop not triggered")
            order.triggered = True
        limit = order.limit
        if limit is not None:
            hit = low <= limit if sign > 0 else high >= limit
            # Stop and limit both inside one bar: assume the limit came first (pessimistic).
            if not hit or (stop is not None and (limit <= stop if sign > 0 else limit >= stop)):
                return self._unfilled(order, "limit not reached")
            ref = sym.open_l[i] if stop is None else stop
            price = min(ref, limit) if sign > 0 else max(ref, limit)
            time_index = i
        else:
            # A trade's SL/TP (contingent) fills in the bar, never at the previous close.
            on_close = self._on_close and not order.contingent
            if on_close:
                price = sym.close_l[i - 1]
            elif self._vwap:
                # The bar's OHLC average: OHLCV bars carry no intrabar volume profile.
                price = (sym.open_l[i] + high + low + sym.close_l[i]) / 4.0
            else:
                price = sym.open_l[i]
            if stop is not None:
                price = max(price, stop) if sign > 0 else min(price, stop)
            time_index = i - 1 if (on_close and stop is None) else i
        return self._execute(
            order, sym, i, time_index=time_index, price=price, sign=sign, final=final
        )

    def health(self) -> Health:
        return health(
            "healthy",
            venue=self.name,
            working=len(self.working),
            fills=self.fills,
            rejections=self.rejections,
        )
