"""The simulated venue's fill accounting: trades, margin and brackets (backtesting.py's broker).

One fill per trade touched: an order first closes the trades it names (its
parent trade, every trade of the position for a flatten, the opposite trades
FIFO otherwise — none with hedging), then opens one new trade with the rest if
the margin allows it. Closing pieces pay the raw price, the opening part the
spread-adjusted one; each piece pays its own commission. A new trade whose
order carries `sl`/`tp` gets its bracket orders at once: a market entry's
brackets may fill in the same bar (the venue runs the bar's orders again), a
stop/limit entry's wait for the next bar, like backtesting.py.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr

from isoloop.engine.market import AlignedSymbol
from isoloop.model.events import ExecutionHandshake, Fill
from isoloop.model.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from isoloop.model.positions import position_key
from isoloop.venues.tradebook import OpenTrade, TradeBook

if TYPE_CHECKING:
    from isoloop.engine.clock import SimulatedClock
    from isoloop.venues.costs import CommissionModel, SlippageModel

__all__ = ["OrderFactory", "TradeAccounting"]

_ACCEPTED = OrderStatus.ACCEPTED
_CANCELLED = OrderStatus.CANCELLED
_REJECTED = OrderStatus.REJECTED
_FOK = TimeInForce.FOK
_IOC = TimeInForce.IOC

#: Makes a RECEIVED order with the run's next id and registers it with the run
#: (the execution manager's `new_contingent`); arguments as `Order`'s.
OrderFactory = Callable[..., Order]


def _gross(trades: list[OpenTrade]) -> float:
    total = 0.0
    for t in trades:
        total += abs(t.size)
    return total


@mypyc_attr(allow_interpreted_subclasses=True)
class TradeAccounting:
    """Mixed into `SimulatedVenue`: everything that changes cash, positions and trades."""

    name: str
    cash: float
    positions: dict[str, float]
    working: list[Order]
    book: TradeBook
    commission: CommissionModel
    slippage: SlippageModel
    fills: int
    rejections: int
    _key_close: dict[str, Sequence[float]]
    _entry_spread: float
    _leverage: float
    _hedging: bool
    _volume_limit: float | None
    _taken: dict[str, float]
    _taken_bar: int
    _settlement_delay: float
    _unsettled: list[tuple[float, float]]
    _reprocess: bool
    _make_order: OrderFactory | None
    _clock: SimulatedClock

    # The venue's own methods, declared abstract here (not in a TYPE_CHECKING block:
    # mypyc, tools/compile.py, compiles no conditional class bodies).
    @abstractmethod
    def cancel(self, order: Order, reason: str) -> ExecutionHandshake: ...

    @abstractmethod
    def _unfilled(self, order: Order, reason: str) -> ExecutionHandshake | None: ...

    # -- margin ----------------------------------------------------------------
    def _margin(self, bar: int, cash: float, key: str | None = None, pos: float = 0.0) -> float:
        """Available margin: equity less Σ|trade| × close / leverage (never negative).

        `key`/`pos` value one position at `pos` instead of the booked size (an
        order's closing part is counted before its opening part is checked)."""
        eq = cash
        closes = self._key_close
        for k, held in self.positions.items():
            qty = pos if k == key else held
            if qty:
                eq += qty * closes[k][bar]
        used = self.book.gross_value(closes, bar)
        return max(0.0, eq - used / self._leverage)

    def _margin_available(self, bar: int) -> float:
        return self._margin(bar, self.cash)

    # -- fills ------------------------------------------------------------------
    def _execute(
        self,
        order: Order,
        sym: AlignedSymbol,
        i: int,
        *,
        time_index: int,
        price: float,
        sign: int,
        final: bool = False,
    ) -> ExecutionHandshake | None:
        key = position_key(self.name, order.position_type, order.symbol)
        if key not in self._key_close:
            self._key_close[key] = sym.close_l
        pos = self.positions.get(key, 0.0)
        volume = sym.volume_l[i]
        entry_price = price * (1.0 + sign * self._entry_spread) if self._entry_spread else price
        frac = order.equity_fraction
        first_fill = order.filled == 0.0
        lev = self._leverage

        if frac is not None and first_fill and order.size == 0.0:
            unit = entry_price + self.commission.fee(sign * frac, price, True) / frac
            units = float(int(self._margin_available(i) * lev * frac // unit))
            if not units:
                return self._refuse(order, i, "insufficient margin for even one unit")
            order.size = units

        qty = order.size - order.filled
        book = self.book
        may_open = False
        if order.parent_trade is not None:
            trade = book.get(order.parent_trade)
            if trade is None or trade.size * sign >= 0:
                return self.cancel(order, f"trade {order.parent_trade} is already closed")
            targets = [trade]
        elif order.flatten:
            targets = book.of_key(key)
            if not targets:
                return self.cancel(order, "nothing to close")
            qty = _gross(targets)
        elif order.reduce_only:
            if pos * sign >= 0:
                return self.cancel(order, "nothing to reduce")
            qty = min(qty, abs(pos))
            targets = book.opposite(key, sign)
        else:
            targets = [] if self._hedging else book.opposite(key, sign)
            may_open = True
        closable = _gross(targets) if targets else 0.0
        if order.parent_trade is not None:
            qty = min(qty, closable)

        # The end-of-run close is bookkeeping (like finalize_trades): never volume-capped.
        if self._volume_limit is not None and not (final and (order.reduce_only or order.flatten)):
            if self._taken_bar != i:
                self._taken.clear()
                self._taken_bar = i
            cap = math.floor(self._volume_limit * volume - self._taken.get(order.symbol, 0.0))
            if cap < qty:
                if order.tif is _FOK or cap <= 0:
                    return self._unfilled(order, "not enough volume in the bar")
                qty = float(cap)
            self._taken[order.symbol] = self._taken.get(order.symbol, 0.0) + qty
        elif order.tif is _FOK and order.reduce_only and qty < order.size - order.filled:
            return self.cancel(order, "FOK: cannot fill completely")

        fills: list[Fill] = []
        cash_delta = 0.0
        fees = 0.0
        cancelled: list[Order] = []
        remaining = qty
        done = 0.0  # units filled, both directions
        net = 0.0  # signed units filled
        closing = min(qty, closable) if not order.flatten else qty
        if closing:
            slip = self.slippage
            fee_of = self.commission.fee
            for t in targets:
                if remaining <= 0.0:
                    break
                n = min(remaining, abs(t.size))
                side = -1 if t.size > 0 else 1
                px = slip.adjust(price, side, closing, volume)
                closed = -side * n
                fee = fee_of(closed, px, first_fill and not fills)
                cash_delta += closed * px - fee
                fees += fee
                fills.append(
                    Fill(order.id, order.symbol, self.name, -closed, px, fee, time_index, t.id)
                )
                cancelled += book.reduce(t, closed, keep=order)
                remaining -= n
                done += n
                net -= closed
            if order.parent_trade is not None or order.flatten:
                # Whatever was left of the trade(s) is what this order closed.
                order.size = order.filled + (qty - remaining)
        cancel_reason = None
        opened: OpenTrade | None = None
        if may_open and remaining > 0.0:
            opening = remaining
            px = self.slippage.adjust(entry_price, sign, opening, volume)
            ref = frac if frac is not None else order.size
            unit = px + self.commission.fee(sign * ref, price, first_fill) / ref
            # Margin after the closing part, as backtesting.py checks the remainder.
            pos_after = pos + net
            if opening * unit > self._margin(i, self.cash + cash_delta, key, pos_after) * lev:
                cancel_reason = "insufficient margin"
            else:
                fee = self.commission.fee(sign * opening, px, first_fill and not fills)
                cash_delta -= sign * opening * px + fee
                fees += fee
                opened = book.add(key, order.symbol, sign * opening, px, time_index, order.tag)
                done += opening
                net += sign * opening
                fills.append(
                    Fill(
                        order.id,
                        order.symbol,
                        self.name,
                        sign * opening,
                        px,
                        fee,
                        time_index,
                        opened.id,
                    )
                )
        for o in cancelled:
            if o in self.working:
                self.working.remove(o)
        filled = done
        if not filled:
            self.rejections += 1
            order.transition(_CANCELLED if order.filled else _REJECTED, cancel_reason)
            self.working.remove(order)
            return ExecutionHandshake(
                order.id, self.name, order.status, bar=i, reason=cancel_reason
            )

        avg = (
            sum(abs(f.qty) * f.price for f in fills) / filled if len(fills) > 1 else fills[0].price
        )
        self.cash += cash_delta
        self.positions[key] = pos + net
        if self._settlement_delay:
            self._unsettled.append((self._clock.now() + self._settlement_delay, cash_delta))
        self.fills += len(fills)
        order.record_fill(filled, avg, time_index)
        if order.reduce_only and order.status is OrderStatus.PARTIAL and self.positions[key] == 0.0:
            order.transition(_CANCELLED, "position closed")
        elif cancel_reason is not None or (order.tif is _IOC and order.is_active):
            order.transition(_CANCELLED, cancel_reason or "IOC remainder cancelled")
        if not order.is_active and order in self.working:
            self.working.remove(order)
        if opened is not None and (order.sl is not None or order.tp is not None):
            self._bracket_new_trade(opened, order, sym, i)
        return ExecutionHandshake(
            order.id,
            self.name,
            order.status,
            tuple(fills),
            ((key, net),),
            cash_delta,
            fees,
            i,
            order.reason,
        )

    def _refuse(self, order: Order, bar: int, reason: str) -> ExecutionHandshake:
        order.transition(_REJECTED, reason)
        self.working.remove(order)
        self.rejections += 1
        return ExecutionHandshake(order.id, self.name, _REJECTED, bar=bar, reason=reason)

    # -- brackets -----------------------------------------------------------------
    def _bracket_new_trade(
        self, trade: OpenTrade, entry: Order, sym: AlignedSymbol, i: int
    ) -> None:
        """Attach the entry's SL/TP to its new trade; decide whether they may fill this bar.

        A market entry filled at the bar's open: its brackets are live in the rest
        of that bar. A stop entry whose take-profit is inside the bar while its
        stop-loss is not is unambiguous too. Any other stop/limit entry's brackets
        wait for the next bar (the bar's path between the two prices is unknown)."""
        tp, sl = entry.tp, entry.sl
        now = i - 1  # live in the rest of this bar
        if entry.type is OrderType.MARKET:
            tp_bar = sl_bar = now
        elif entry.type is OrderType.STOP and tp is not None:
            high, low = sym.high_l[i], sym.low_l[i]
            if trade.size > 0:
                clear = tp <= high and (sl if sl is not None else -math.inf) < low
            else:
                clear = tp >= low and (sl if sl is not None else math.inf) > high
            tp_bar, sl_bar = (now if clear else i), i
        else:
            # Unlike backtesting.py, never live in the entry bar even when another
            # order's brackets make the venue run this bar again: the bar's open
            # came before a stop/limit entry traded.
            tp_bar = sl_bar = i
        if tp is not None:
            self._attach(trade, "tp", tp, tp_bar)
        if sl is not None:
            self._attach(trade, "sl", sl, sl_bar)
        if now in (tp_bar, sl_bar):
            self._reprocess = True

    def _attach(self, trade: OpenTrade, kind: str, price: float, submitted_bar: int) -> Order:
        """A new SL (a stop, queued first) or TP (a limit, queued last) for `trade`."""
        side = Side.SELL if trade.size > 0 else Side.BUY
        stop = price if kind == "sl" else None
        limit = None if kind == "sl" else price
        size = abs(trade.size)
        make = self._make_order
        if make is None:
            order = Order(f"{trade.id}.{kind}", trade.symbol, side, size, venue=self.name)
            order.type = OrderType.STOP if kind == "sl" else OrderType.LIMIT
            order.stop, order.limit, order.tag = stop, limit, trade.tag
            order.transition(OrderStatus.VALIDATED)
            order.transition(OrderStatus.ROUTED)
        else:
            order = make(
                trade.symbol,
                side,
                size,
                venue=self.name,
                stop=stop,
                limit=limit,
                tag=trade.tag,
                trade_id=trade.id,
            )
        order.position_type = trade.key.split(":", 2)[1]
        order.parent_trade = trade.id
        order.contingent = True
        order.submitted_bar = submitted_bar
        order.transition(_ACCEPTED)
        if kind == "sl":
            trade.sl_order = order
            self.working.insert(0, order)
        else:
            trade.tp_order = order
            self.working.append(order)
        return order

    def set_bracket(self, trade_id: str, kind: str, price: float | None, bar: int) -> Order | None:
        """Replace (or with None, cancel) a trade's SL or TP; a new one works from the next bar."""
        trade = self.book.get(trade_id)
        if trade is None:
            raise ValueError(f"trade {trade_id} is closed; its {kind} cannot change")
        old = trade.sl_order if kind == "sl" else trade.tp_order
        if old is not None and old.is_active:
            self.cancel(old, f"{kind} replaced")
        if kind == "sl":
            trade.sl_order = None
        else:
            trade.tp_order = None
        if price is None:
            return None
        return self._attach(trade, kind, price, bar)

    def open_trades(self) -> list[OpenTrade]:
        return list(self.book.open)
