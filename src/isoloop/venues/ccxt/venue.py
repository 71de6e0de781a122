"""`CcxtVenue`: a real exchange (Binance, Bybit, OKX; spot or linear perp) behind the
`Venue` protocol, so the execution manager, reconciliation and risk run unchanged.

Exactly-once placement: every order's client id is derived from the account's
nonce and the run-local order id (`ids.py`) and journalled BEFORE its request
leaves (`journal.py`). Any request whose outcome is unknown (timeout, 5xx, dropped
connection, a process killed mid-request) is answered by asking the exchange for
that client id, never by sending again blind; a restart does the same for every
journalled order the books do not fully hold, and until the strategy re-creates
such an order (same id, same client id) its exchange trades are kept out of what
the venue reports, so the books and the account agree at startup.
"""

from __future__ import annotations

import math
import secrets
import time
from types import MappingProxyType
from typing import Any

from isoloop.config.models import VenueConfig
from isoloop.engine.clock import SimulatedClock
from isoloop.errors import ConfigError, ExecutionError, OrderRejected
from isoloop.model.events import AccountSnapshot, ExecutionHandshake, Fill
from isoloop.model.orders import Order, OrderStatus, OrderType
from isoloop.venues.ccxt.client import AccountView, Credentials, ExchangeClient, RequestFailed
from isoloop.venues.ccxt.faults import AMBIGUOUS
from isoloop.venues.ccxt.ids import client_order_id
from isoloop.venues.ccxt.journal import Baseline, Journal, JournalRow
from isoloop.venues.ccxt.steps import VenueSteps
from isoloop.venues.ccxt.tracking import (
    Tracked,
    TradeEffect,
    fill_of,
    order_from_record,
    order_record,
    trade_effect,
)

__all__ = ["CcxtVenue"]

_S = OrderStatus
_EPS = 1e-12
_TERMINAL_AT_EXCHANGE = MappingProxyType(
    {"canceled": _S.CANCELLED, "expired": _S.EXPIRED, "rejected": _S.REJECTED}
)


def _for_market(symbol: str, market: str) -> str:
    """`BTC/USDT` on a perp venue is `BTC/USDT:USDT` (linear: settled in the quote), and
    the other way round, so one `symbols` mapping serves a spot and a perp venue."""
    pair, _, settle = symbol.partition(":")
    if market == "spot" or "/" not in pair:
        return pair
    return f"{pair}:{settle or pair.split('/')[1]}"


class CcxtVenue(VenueSteps):
    """One exchange account (one market type) for one strategy.

    `store` (the live container's `store` slot: anything with a SQLite `db`) holds
    the journal; without it (a unit test) ids are still deterministic but nothing
    survives the process. `fill_wait` bounds how long an instruction block's leg
    waits for its fill before the rest is cancelled."""

    reconcile_each_bar = True
    # A live engine refuses to replay a session on it (replay would send the orders again).
    real_exchange = True

    def __init__(
        self,
        settings: VenueConfig,
        credentials: Credentials,
        log: Any,
        run_id: str,
        clock: SimulatedClock | None = None,
        store: Any = None,
        name: str | None = None,
        market: str | None = None,
        fill_wait: float = 10.0,
        poll_interval: float = 0.05,
        attempts: int = 4,
        backoff: float = 0.1,
    ) -> None:
        self.name = name or settings.name
        ex = settings.exchange
        if ex is None:
            raise ConfigError(
                f"strategy {run_id!r}: venue {self.name!r} is a ccxt venue but its config has no "
                "venue.exchange; set venue.exchange.id (binance, bybit or okx) and market"
            )
        if market is not None and market != ex.market:
            if market not in ("spot", "perp"):
                raise ConfigError(f"venue {self.name!r}: market {market!r}: use spot or perp")
            # One `venue.exchange` serves both legs of a basis container: the blueprint says
            # which market each venue slot trades.
            ex = ex.model_copy(update={"market": market})
        self.settings = settings
        self._log = log
        self.account_id = run_id
        self._clock = clock
        self._fill_wait = fill_wait
        self._poll = poll_interval
        self._attempts = attempts
        self._backoff = backoff
        self.position_type = "perp" if ex.market == "perp" else "spot"
        symbols = sorted(clock.market.symbols) if clock is not None else sorted(ex.symbols)
        self._sym = {s: _for_market(ex.symbols.get(s, s), ex.market) for s in symbols}
        self._key_of = {c: f"{self.name}:{self.position_type}:{s}" for s, c in self._sym.items()}
        self.client = ExchangeClient(ex, credentials, log)
        self._with_retries("load_markets", lambda: self.client.load(list(self._sym.values())))
        self.working: list[Order] = []
        self._tracked: dict[str, Tracked] = {}
        self._adoptable: dict[str, Tracked] = {}  # journalled before a restart, not re-created
        self._unreported: dict[str, TradeEffect] = {}  # exchange trades the books lack
        self._touched: dict[str, Tracked] = {}
        self._new_fills: list[Fill] = []
        self._fresh = False
        self._sent: set[str] = set()  # client ids requested by this process
        self._first_checkpoint = True
        self.fill_seq = 0
        self.fills = 0
        self.orders_total = 0
        self.rejections = 0
        self._journal = Journal(store.db, run_id, self.name) if store is not None else None
        self._store = store
        base = self._journal.baseline() if self._journal is not None else None
        view = self._read()
        if base is None:
            # Whatever the account holds before this strategy's first order is not its own.
            base = Baseline(str(time.time_ns()) + secrets.token_hex(4), view.cash, view.positions)
            if self._journal is not None:
                self._journal.set_baseline(base)
        self._base = base
        if self._journal is not None:
            self._recover(self._journal.open_rows())
            self.orders_total = self._journal.count()
            stored = store.load_account()
            # Fills already in the store (a restart): the next ones are numbered after them.
            self.fill_seq = self.fills = stored.fills if stored is not None else 0
        log.info(
            "exchange_venue_ready",
            venue=self.name,
            exchange=ex.id,
            market=ex.market,
            sandbox=ex.sandbox,
            cash=self.cash,
            positions=self.positions,
            open_orders=self.open_order_ids(),
            adoptable=sorted(self._adoptable),
        )

    # -- requests -------------------------------------------------------------------
    def _with_retries(self, what: str, fn: Any) -> Any:
        """A read, retried with backoff on network faults; then EXEC-001 (HIGH)."""
        for attempt in range(self._attempts):
            try:
                return fn()
            except RequestFailed as f:
                if f.fault in ("rejected", "not_found", "auth") or attempt + 1 >= self._attempts:
                    raise ExecutionError(
                        f"venue {self.name!r}: {what} failed after {attempt + 1} attempt(s): {f}",
                        venue=self.name,
                    ) from None
                self._log.warning("exchange_retry", venue=self.name, what=what, fault=f.fault)
                time.sleep(self._backoff * (2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _lookup(self, t: Tracked) -> dict[str, Any] | None:
        """The exchange's order for `t`'s client id; None when the exchange has none."""

        def ask() -> dict[str, Any] | None:
            try:
                if t.exchange_id is not None:
                    found: dict[str, Any] = self.client.call("fetch_order", t.exchange_id, t.symbol)
                else:
                    found = self.client.call(
                        "fetch_order", None, t.symbol, {"clientOrderId": t.client_id}
                    )
                return found
            except RequestFailed as f:
                if f.fault == "not_found":
                    return None
                raise

        found: dict[str, Any] | None = self._with_retries(f"lookup of {t.order.id}", ask)
        if found is not None and t.exchange_id is None:
            t.exchange_id = str(found["id"])
        return found

    def _new_trades(self, t: Tracked) -> list[TradeEffect]:
        key = self._key_of[t.symbol]
        m = self.client.market(t.symbol)
        trades = self._with_retries(
            f"trades of {t.order.id}",
            lambda: self.client.call(
                "fetch_my_trades", t.symbol, None, None, {"orderId": t.exchange_id}
            ),
        )
        mine = [x for x in trades if str(x.get("order")) == t.exchange_id]
        mine.sort(key=lambda x: (x.get("timestamp") or 0, str(x["id"])))
        return [
            trade_effect(x, key, str(m["base"]), self.client.quote)
            for x in mine
            if str(x["id"]) not in t.reported
        ]

    # -- restart ----------------------------------------------------------------------
    def _recover(self, rows: list[JournalRow]) -> None:
        for row in rows:
            order = order_from_record(row.record)
            t = Tracked(order, row.client_id, self._sym.get(order.symbol, order.symbol))
            t.exchange_id = row.exchange_id
            t.reported = set(row.trades)
            t.reported_qty = order.filled if row.state != "sending" else 0.0
            found = self._lookup(t)
            if found is not None:
                for eff in self._new_trades(t):
                    self._unreported[eff.trade_id] = eff
                    t.pending.append(eff.trade_id)
            if row.state == "sending":
                # Sent (maybe) but never in the books: the strategy re-creates it on the bar
                # it resumes at, and then it is adopted (found) or sent (not found).
                order.status = _S.ROUTED
                self._adoptable[order.id] = t
                self._log.info(
                    "exchange_order_in_doubt",
                    venue=self.name,
                    order_id=order.id,
                    landed=found is not None,
                    unreported_trades=len(self._unreported),
                )
            elif order.is_active:
                self._tracked[order.id] = t
                self.working.append(order)

    # -- account --------------------------------------------------------------------------
    def _read(self) -> AccountView:
        view: AccountView = self._with_retries(
            "account read", lambda: self.client.account(self._key_of)
        )
        self._view = view
        return view

    def _adjusted(self, view: AccountView) -> tuple[float, dict[str, float]]:
        cash = view.cash - sum(e.cash for e in self._unreported.values())
        pos = dict(view.positions)
        base: Baseline | None = getattr(self, "_base", None)  # None while reading it
        for key, qty in (base.positions0 if base is not None else {}).items():
            pos[key] = pos.get(key, 0.0) - qty
        for e in self._unreported.values():
            pos[e.key] = pos.get(e.key, 0.0) - e.qty
        return cash, {k: q for k, q in sorted(pos.items()) if abs(q) > _EPS}

    def initial_cash(self) -> float:
        return self._base.cash0

    def reported_cash(self) -> float:
        self._fresh = True
        return self._adjusted(self._read())[0]

    def reported_positions(self) -> dict[str, float]:
        # The read `reported_cash` just made serves this call too (one reconciliation).
        view = self._view if self._fresh else self._read()
        self._fresh = False
        return self._adjusted(view)[1]

    def account(self) -> AccountSnapshot:
        cash, pos = self._adjusted(self._read())
        return AccountSnapshot(self.name, cash, pos)

    @property
    def cash(self) -> float:
        """The last account read (no request)."""
        return self._adjusted(self._view)[0]

    @property
    def positions(self) -> dict[str, float]:
        return self._adjusted(self._view)[1]

    # -- orders ---------------------------------------------------------------------------
    def _hs(self, order: Order, reason: str | None = None) -> ExecutionHandshake:
        bar = self._clock.bar if self._clock is not None else -1
        return ExecutionHandshake(order.id, self.name, order.status, bar=bar, reason=reason)

    def _reject(self, order: Order, reason: str) -> ExecutionHandshake:
        order.transition(_S.REJECTED, reason)
        self.rejections += 1
        return self._hs(order, reason)

    def submit(self, order: Order, front: bool = False) -> ExecutionHandshake:
        """Place `order` (ROUTED); its fills come back at once if the exchange filled it."""
        t = self._adoptable.pop(order.id, None)
        asked = t is not None
        if t is not None:
            t.order = order
            self._tracked[order.id] = self._touched[order.id] = t
            # Maybe sent before the restart: every later attempt asks the exchange first.
            self._sent.add(t.client_id)
            found = self._lookup(t) if t.exchange_id is None else {"id": t.exchange_id}
            if found is not None:
                self._log.info("exchange_order_adopted", venue=self.name, order_id=order.id)
                return self._accepted(t)
        sym = self._sym.get(order.symbol)
        if sym is None:
            return self._reject(order, f"unknown symbol {order.symbol!r} on venue {self.name!r}")
        if order.type not in (OrderType.MARKET, OrderType.LIMIT):
            return self._reject(order, f"{order.type.value} orders are not sent to the exchange")
        if order.equity_fraction is not None and self._clock is not None:
            price = self._clock.market.symbols[order.symbol].close_l[max(self._clock.bar, 0)]
            order.size = float(math.floor(order.equity_fraction * self.cash / price))
        if order.size <= 0:
            return self._reject(order, "size is zero")
        if t is None:
            t = self._tracked.get(order.id)
        if t is None:
            nonce = self._base.nonce
            t = Tracked(order, client_order_id(nonce, self.account_id, self.name, order.id), sym)
            self._tracked[order.id] = t
        self._touched[order.id] = t
        # A resend after an unknown outcome: ask first, never send twice.
        if (
            not asked
            and t.exchange_id is None
            and t.client_id in self._sent
            and self._lookup(t) is not None
        ):
            return self._accepted(t)
        if self._journal is not None:
            self._journal.sending(order.id, t.client_id, order_record(order))
        self.orders_total += 1 if t.client_id not in self._sent else 0
        self._sent.add(t.client_id)
        params: dict[str, Any] = {"clientOrderId": t.client_id}
        if order.reduce_only and self.position_type == "perp":
            params["reduceOnly"] = True
        kind = "limit" if order.type is OrderType.LIMIT else "market"
        try:
            placed = self.client.call(
                "create_order", sym, kind, order.side.value.lower(), order.size, order.limit, params
            )
        except RequestFailed as f:
            return self._failed(t, f)
        t.exchange_id = str(placed["id"])
        return self._accepted(t, placed)

    def _failed(self, t: Tracked, f: RequestFailed) -> ExecutionHandshake:
        order = t.order
        if f.fault in AMBIGUOUS or f.fault == "duplicate":
            if self._lookup(t) is not None:
                self._log.warning(
                    "exchange_order_landed", venue=self.name, order_id=order.id, fault=f.fault
                )
                return self._accepted(t)
            raise ExecutionError(
                f"venue {self.name!r}: order {order.id} not placed ({f.fault}: {f}); the exchange "
                f"has no order {t.client_id}, so it is sent again with the same client id",
                order_id=order.id,
                fault=f.fault,
            )
        if f.fault == "maintenance":
            raise OrderRejected(
                f"venue {self.name!r} is under maintenance; order {order.id} not placed: {f}",
                order_id=order.id,
                fault=f.fault,
            )
        if f.fault == "rejected":
            return self._reject(order, str(f))
        raise ExecutionError(
            f"venue {self.name!r}: order {order.id} not placed ({f.fault}: {f})",
            order_id=order.id,
            fault=f.fault,
        )

    def _accepted(self, t: Tracked, answer: dict[str, Any] | None = None) -> ExecutionHandshake:
        if t.order.status is _S.ROUTED:
            t.order.transition(_S.ACCEPTED)
        if answer is None or answer.get("status") is None:
            answer = self._lookup(t) or {"status": "open", "filled": 0.0}
        return self._update(t, answer)

    def _update(self, t: Tracked, answer: dict[str, Any]) -> ExecutionHandshake:
        """Report what the exchange's `answer` adds to what the books hold of `t`."""
        order = t.order
        self._touched[order.id] = t
        bar = self._clock.bar if self._clock is not None else -1
        fills: list[Fill] = []
        deltas: dict[str, float] = {}
        cash = fees = 0.0
        filled = float(answer.get("filled") or 0.0)
        if filled > t.reported_qty + _EPS or (answer.get("status") == "closed" and not t.reported):
            for eff in self._new_trades(t):
                if not order.is_active:
                    break
                fills.append(fill_of(order, self.name, eff, bar))
                order.record_fill(eff.gross, eff.price, bar)
                t.reported.add(eff.trade_id)
                t.reported_qty += eff.gross
                self._unreported.pop(eff.trade_id, None)
                deltas[eff.key] = deltas.get(eff.key, 0.0) + eff.qty
                cash += eff.cash
                fees += eff.fee
        final = _TERMINAL_AT_EXCHANGE.get(str(answer.get("status")))
        if final is not None and order.is_active:
            if final is _S.REJECTED and order.status is not _S.ACCEPTED:
                final = _S.CANCELLED
            order.transition(final, order.reason or f"{answer.get('status')} at the exchange")
        if order.is_active:
            if order not in self.working:
                self.working.append(order)
        elif order in self.working:
            self.working.remove(order)
        self.fills += len(fills)
        self._new_fills.extend(fills)
        return ExecutionHandshake(
            order.id,
            self.name,
            order.status,
            tuple(fills),
            tuple(deltas.items()),
            cash,
            fees,
            bar,
            order.reason if not order.is_active else None,
        )
