"""The run's position books and the handler that keeps them equal to the venues.

`PositionMonitor` holds cash per venue and units per position key and records
every change with its clock bar, so the equity curve is computed vectorized
after the loop instead of valued on every bar. `PositionUpdateHandler` applies
a venue's execution deltas to those books and reconciles them against the
venue's own account.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from isoloop.engine.clock import SimulatedClock
from isoloop.engine.health import Health, health
from isoloop.engine.market import MarketView
from isoloop.engine.trades import TradeLedger
from isoloop.engine.venue import Venue
from isoloop.engine.venue_manager import VenueInterfaceManager
from isoloop.model.events import ExecutionHandshake
from isoloop.model.positions import PositionKey

__all__ = ["PositionMonitor", "PositionUpdateHandler"]


class PositionMonitor:
    """Books: cash per venue and signed units per `venue:position_type:symbol` key."""

    def __init__(self, clock: SimulatedClock) -> None:
        self._clock = clock
        self._market: MarketView = clock.market
        self.cash: dict[str, float] = {}
        self.positions: dict[str, float] = {}
        self._by_venue: dict[str, dict[str, float]] = {}
        self._key_symbol: dict[str, str] = {}
        self._cash0 = 0.0
        self._cash_bars: list[int] = []
        self._cash_vals: list[float] = []
        self._qty_bars: dict[str, list[int]] = {}
        self._qty_vals: dict[str, list[float]] = {}
        self._any_close: Sequence[float] = self._market.symbols[self._market.primary].close_l
        # The account is out of money at bar i when bust_closes[i] <= bust_low or
        # bust_closes[i] >= bust_high; with `bust_known` False (several positions open)
        # every position is valued instead. Three plain fields, not an optional tuple:
        # compiled, the bar loop reads them without unboxing a tuple on every bar.
        self.bust_known = True
        self.bust_low = -math.inf
        self.bust_high = math.inf
        self.bust_closes: Sequence[float] = self._any_close

    def open_account(self, venue: str, cash: float) -> None:
        self.cash[venue] = cash
        self._by_venue[venue] = {}
        self._cash0 = sum(self.cash.values())
        self._update_bust()

    def _update_bust(self, cash: float | None = None) -> None:
        """Precompute the close at which equity reaches zero, so the bar loop checks
        one comparison instead of valuing the account on every bar. `cash`: the
        total cash when the caller has just summed it."""
        if cash is None:
            cash = self.total_cash()
        held = [(k, q) for k, q in self.positions.items() if q]
        self.bust_known = len(held) <= 1
        if not held:
            self._set_bust(-math.inf if cash > 0 else math.inf, math.inf, self._any_close)
        elif len(held) == 1:
            key, qty = held[0]
            closes = self._market.symbols[self._key_symbol[key]].close_l
            if qty > 0:
                self._set_bust(-cash / qty, math.inf, closes)
            else:
                self._set_bust(-math.inf, cash / -qty, closes)

    def _set_bust(self, low: float, high: float, closes: Sequence[float]) -> None:
        self.bust_low = low
        self.bust_high = high
        self.bust_closes = closes

    def position(self, key: str) -> float:
        return self.positions.get(key, 0.0)

    def venue_positions(self, venue: str) -> dict[str, float]:
        return self._by_venue[venue]

    def total_cash(self) -> float:
        # A plain loop, not sum(): compiled, it adds C doubles (the same sums, in the
        # same order) without a call to the builtin per fill.
        total = 0.0
        for value in self.cash.values():
            total += value
        return total

    def equity(self, bar: int | None = None) -> float:
        """Cash plus every position valued at the close of `bar` (default: the current bar)."""
        b = self._clock.bar if bar is None else bar
        eq = self.total_cash()
        for key, qty in self.positions.items():
            if qty:
                eq += qty * self._market.symbols[self._key_symbol[key]].close_l[b]
        return eq

    def position_value(self, key: str, bar: int | None = None) -> float:
        b = self._clock.bar if bar is None else bar
        qty = self.positions.get(key, 0.0)
        if not qty:
            return 0.0
        return qty * self._market.symbols[self._key_symbol[key]].close_l[b]

    def apply(self, venue: str, deltas: tuple[tuple[str, float], ...], cash_delta: float) -> None:
        bar = self._clock.bar
        total: float | None = None
        if cash_delta:
            self.cash[venue] += cash_delta
            total = self.total_cash()
            self._cash_bars.append(bar)
            self._cash_vals.append(total)
        book = self._by_venue[venue]
        for key, dq in deltas:
            qty = self.positions.get(key, 0.0) + dq
            self.positions[key] = qty
            book[key] = qty
            bars = self._qty_bars.get(key)
            if bars is None:
                self._key_symbol[key] = PositionKey.parse(key).symbol
                bars = self._qty_bars[key] = []
                self._qty_vals[key] = []
            bars.append(bar)
            self._qty_vals[key].append(qty)
        self._update_bust(total)

    def _series(self, bars: list[int], vals: list[float], initial: float, n: int) -> np.ndarray:
        """`initial` until the first change, then each bar's last logged value carried."""
        if not bars:
            return np.full(n, initial)
        at = np.asarray(bars, dtype=np.int64)
        values = np.asarray(vals, dtype=np.float64)
        if at[-1] < n and bool(np.all(at[1:] >= at[:-1])):
            # The log is in bar order (the usual case): each bar's last value, repeated
            # up to the next change — a fifth of a per-bar binary search's time.
            last = np.append(at[1:] != at[:-1], True)
            at, values = at[last], values[last]
            out = np.empty(n)
            out[: at[0]] = initial
            out[at[0] :] = np.repeat(values, np.diff(np.append(at, n)))
            return out
        idx = np.searchsorted(at, np.arange(n), side="right") - 1
        return np.where(idx >= 0, values[np.maximum(idx, 0)], initial)

    def _marked(self, n: int) -> list[tuple[str, np.ndarray]]:
        """(symbol, value at each bar's close) of each position, in key order."""
        out: list[tuple[str, np.ndarray]] = []
        for key in sorted(self._qty_bars):
            sym = self._key_symbol[key]
            qty = self._series(self._qty_bars[key], self._qty_vals[key], 0.0, n)
            close = self._market.symbols[sym].close
            out.append((sym, np.where(qty != 0.0, qty * close, 0.0)))
        return out

    def equity_curve(self) -> np.ndarray:
        """Equity at each bar's close after that bar's processing, from the change log."""
        return self.curves()[0]

    def cash_curve(self) -> np.ndarray:
        """Cash of every venue together at each bar's close, from the change log."""
        return self._series(self._cash_bars, self._cash_vals, self._cash0, len(self._market))

    def value_curves(self) -> dict[str, np.ndarray]:
        """Per symbol (sorted), its positions' value at each bar's close.

        Every venue and position type of a symbol are summed; a bar where the symbol
        did not trade marks it at its last traded close, like the equity curve, so
        `cash_curve() + sum(value_curves().values())` adds up to `equity_curve()`. Every
        symbol of the run has a curve, zero where nothing was held.
        """
        return self.curves()[2]

    def curves(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """(`equity_curve()`, `cash_curve()`, `value_curves()`) from one pass over the log."""
        n = len(self._market)
        cash = self.cash_curve()
        equity = cash
        values = {sym: np.zeros(n) for sym in sorted(self._market.symbols)}
        for sym, value in self._marked(n):
            equity = equity + value
            values[sym] = values[sym] + value
        return equity, cash, values

    def health(self) -> Health:
        return health("healthy", keys=len(self.positions), venues=sorted(self.cash))


class PositionUpdateHandler:
    """Applies execution deltas to the books; reconciles books against venue accounts."""

    def __init__(
        self,
        positions: PositionMonitor,
        venues: VenueInterfaceManager,
        log: Any,
        tolerance: float = 1e-9,
    ) -> None:
        self._positions = positions
        self._venues = venues
        self._log = log
        self._tol = tolerance
        self.trades = TradeLedger()
        self.fees = 0.0
        self.updates = 0
        self.reconciliations = 0
        self.mismatches = 0
        self._venue_cache: dict[str, Venue] = {}
        # Startup reconciliation: the books start from what each venue reports.
        for venue in venues.venues():
            positions.open_account(venue.name, venue.reported_cash())
            for key, qty in venue.reported_positions().items():
                if qty:
                    positions.apply(venue.name, ((key, qty),), 0.0)
            # A venue that keeps trades (a restored paper account) names them, so
            # the strategy's `trades` and later closes pair with the venue's.
            open_trades = getattr(venue, "open_trades", None)
            for t in open_trades() if open_trades is not None else ():
                self.trades.seed(
                    t.id, t.key, t.symbol, venue.name, t.size, t.entry_price, t.entry_bar
                )

    @property
    def monitor(self) -> PositionMonitor:
        return self._positions

    def update_state(self, handshake: ExecutionHandshake, tag: str | None = None) -> None:
        """Apply one handshake's deltas; `tag` (the order's) names the trades it opens."""
        self._positions.apply(handshake.venue, handshake.deltas, handshake.cash_delta)
        self.fees += handshake.fees
        self.updates += 1
        on_fill = self.trades.on_fill
        if handshake.fills:
            key = handshake.deltas[0][0]
            for fill in handshake.fills:
                on_fill(key, fill, tag)

    def reconcile(self, venue_name: str) -> list[str]:
        """Differences between the books and `venue_name`'s account; empty when they agree."""
        self.reconciliations += 1
        venue = self._venue_cache.get(venue_name)
        if venue is None:
            venue = self._venue_cache[venue_name] = self._venues.get(venue_name)
        book_cash = self._positions.cash[venue_name]
        venue_cash = venue.reported_cash()
        book = self._positions.venue_positions(venue_name)
        theirs = venue.reported_positions()
        # Both sides applied the same deltas in the same order: usually bit-equal.
        if book_cash == venue_cash and book == theirs:
            return []
        problems: list[str] = []
        if abs(book_cash - venue_cash) > self._tol * max(1.0, abs(venue_cash)):
            problems.append(f"cash: books {book_cash!r} != venue {venue_cash!r}")
        if book != theirs:
            for key in sorted(set(book) | set(theirs)):
                a, b = book.get(key, 0.0), theirs.get(key, 0.0)
                if abs(a - b) > self._tol * max(1.0, abs(b)):
                    problems.append(f"{key}: books {a!r} != venue {b!r}")
        if problems:
            self.mismatches += 1
        return problems

    def health(self) -> Health:
        return health(
            "healthy" if not self.mismatches else "degraded",
            updates=self.updates,
            reconciliations=self.reconciliations,
            mismatches=self.mismatches,
        )
