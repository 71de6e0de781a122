"""The live container's `engine` slot: the backtest's per-bar step, one feed bar at a time.

The same execution manager, position books, risk manager and strategy as a
backtest; only the driver differs: bars arrive from the feed, and each bar is
one SQLite transaction (venue account + container checkpoint), so a restart
resumes exactly after the last whole bar.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from isoloop.data.bars import MarketData
from isoloop.data.fingerprint import fingerprint
from isoloop.engine.bus import EventBus
from isoloop.engine.execution import ExecutionManager
from isoloop.engine.health import Health, health
from isoloop.engine.positions import PositionMonitor, PositionUpdateHandler
from isoloop.engine.risk import RiskManager
from isoloop.engine.strategy import Strategy
from isoloop.errors import ConfigError, ReconciliationError, StartupReconciliationError
from isoloop.live.config import LiveConfig
from isoloop.live.export import EXPORT_EVERY, export_account
from isoloop.live.feed import FeedBar
from isoloop.live.slots.clock import LiveClock
from isoloop.live.slots.paper import PaperVenue
from isoloop.live.slots.store import AccountStore, Checkpoint
from isoloop.model.modes import ExecutionMode
from isoloop.model.positions import PositionKey

__all__ = ["LiveEngine"]

_TOL = 1e-9


class LiveEngine:
    def __init__(
        self,
        *,
        clock: LiveClock,
        strategy: Strategy,
        execution: ExecutionManager,
        positions: PositionMonitor,
        position_updates: PositionUpdateHandler,
        risk: RiskManager,
        venue: PaperVenue,
        store: AccountStore,
        bus: EventBus,
        log: Any,
        run_id: str,
        live: LiveConfig,
        market_data: MarketData,
        hedge_venue: Any = None,
    ) -> None:
        self._clock = clock
        self._strategy = strategy
        self._execution = execution
        self._positions = positions
        self._updates = position_updates
        self.risk = risk
        self.venue = venue
        # A basis container's second venue: checkpointed, compared at startup and reconciled
        # like the first (its account rows stay the first venue's: one account per strategy).
        self.hedge_venue = hedge_venue
        self._others: list[Any] = [] if hedge_venue is None else [hedge_venue]
        self._store = store
        self.bus = bus
        self._log = log
        self.name = run_id
        self.last_bar = -1
        self.last_ns: int | None = None
        self.first_bar = 1
        self.bars = 0
        self.caught_up = 0
        self.started = False
        self._live = live
        self._market_data = market_data
        # PAPER_TRADING or LIVE_TRADING; `replay_session` sets REPLAY before `start()`.
        self.mode = (
            ExecutionMode.PAPER_TRADING
            if live.environment == "paper"
            else ExecutionMode.LIVE_TRADING
        )
        self.export_dir = Path(live.state_dir) / "exports" / run_id
        self._trades_done = 0  # closed trades of this container already in the store
        self._trade_seq = 0
        self._exported = 0.0
        self._export_cost = 0.0  # seconds the last export took

    # -- startup ------------------------------------------------------------------
    def start(self) -> None:
        """Reconcile the venue's account with the container's checkpoint, then init."""
        real = [v.name for v in (self.venue, *self._others) if getattr(v, "real_exchange", False)]
        if self.mode is ExecutionMode.REPLAY and real:
            # A fresh container of this blueprint would send the recorded orders again.
            raise ConfigError(
                f"strategy {self.name!r}: its venue(s) {', '.join(real)} trade on a real "
                "exchange; replay re-runs paper sessions only (it would place the orders again)"
            )
        cp = self._store.load_checkpoint()
        venue = self.venue
        problems = self.compare(cp)
        if problems:
            self._log.error("startup_reconciliation_failed", problems=problems)
            raise StartupReconciliationError(
                f"strategy {self.name!r}: venue account and container state disagree "
                f"({'; '.join(problems)}); refusing to start. Fix the account at the venue "
                f"or remove this strategy's rows from {self._store.path}"
            )
        if cp is not None:
            self._execution.continue_ids(cp.order_seq)
            self.last_bar = cp.last_bar
            self.last_ns = cp.last_ns
            self._clock.bar = cp.last_bar
        # The venue's restored open orders become the strategy's orders again (cancellable).
        self._execution.orders.extend(venue.working)
        for other in self._others:
            self._execution.orders.extend(other.working)
        self._log.info(
            "startup_reconciled",
            resumed=cp is not None,
            last_bar=self.last_bar,
            cash=venue.cash,
            positions=dict(venue.positions),
            open_orders=venue.open_order_ids(),
        )
        self._record_session()
        self._strategy.init()
        self.first_bar = 1 + int(self._strategy.warmup)
        self._exported = time.monotonic()
        if self.mode is not ExecutionMode.REPLAY:
            # The last export runs when the store stops: after every module above it
            # (this engine included) has stopped, so it holds every committed bar. (A
            # replay's container only checks orders and fills: no exports.)
            self._store.on_stop = self.export
        self.started = True

    def _record_session(self) -> None:
        """Note this start with what replay needs to rebuild the container: its config
        (this strategy only) and the fingerprint of every symbol's data."""
        live = self._live
        mine = live.model_copy(update={"strategies": [live.strategy(self.name)]})
        md = self._market_data
        self._trade_seq = self._store.trades_total()
        self._store.write_session(
            datetime.now(UTC).isoformat(),
            str(self.mode),
            self.last_bar,
            json.dumps(mine.model_dump(mode="json"), sort_keys=True),
            {symbol: fingerprint(md[symbol]) for symbol in md},
        )

    def compare(self, cp: Checkpoint | None) -> list[str]:
        venue = self.venue
        every = [venue, *self._others]
        if cp is None:
            fresh = all(
                v.cash == v.initial_cash() and not any(v.positions.values()) and not v.working
                for v in every
            )
            return (
                [] if fresh else ["the venue account has activity but the container has no state"]
            )
        out = []
        if abs(cp.books_cash - venue.cash) > _TOL * max(1.0, abs(venue.cash)):
            out.append(f"cash: container {cp.books_cash!r} != venue {venue.cash!r}")
        if self._others:
            kept = self._store.load_venue_cash()
            for v in self._others:
                mine = kept.get(v.name, v.initial_cash())
                if abs(mine - v.cash) > _TOL * max(1.0, abs(v.cash)):
                    out.append(f"cash of {v.name}: container {mine!r} != venue {v.cash!r}")
        theirs = {k: q for v in every for k, q in v.positions.items() if q}
        ours = {k: q for k, q in cp.books_positions.items() if q}
        for key in sorted(set(ours) | set(theirs)):
            a, b = ours.get(key, 0.0), theirs.get(key, 0.0)
            if abs(a - b) > _TOL * max(1.0, abs(b)):
                out.append(f"position {key}: container {a!r} != venue {b!r}")
        open_ids = sorted(i for v in every for i in v.open_order_ids())
        if sorted(cp.open_orders) != open_ids:
            out.append(f"open orders: container {sorted(cp.open_orders)} != venue {open_ids}")
        return out

    # -- bars --------------------------------------------------------------------------
    def state_mark(self) -> tuple[int, int, float]:
        """Changes when the step touched orders, fills or cash (recoverable-retry guard)."""
        return (
            len(self._execution.orders),
            sum(v.fill_seq + v.pending_fills for v in (self.venue, *self._others)),
            self.venue.cash,
        )

    def step(self, bar: FeedBar) -> None:
        """Process one bar in memory, then write it as one short transaction.

        The transaction opens only after the strategy returned, so a container
        stuck in a model call holds no database lock its peers could wait on.
        """
        i = bar.bar
        self._clock.bar = i
        kill = str(self.risk.state)  # what the bar runs under (replay re-applies it)
        try:
            for w in self._execution.work_lists:
                if w:
                    self._execution.process_bar(i)
                    break
            if i >= self.first_bar:
                self._strategy.on_bar(i)
            for v in (self.venue, *self._others):
                if getattr(v, "reconcile_each_bar", False):
                    self._reconcile_with_venue(v.name, i)
        except ReconciliationError as exc:
            # The tight loop's EXEC-005 too: books that disagree with the venue stop trading.
            if self.risk.state != "HALTED":
                self.risk.trip("HALTED", f"books and venue disagree: {exc}", by="engine")
            raise
        store = self._store
        store.begin()
        try:
            for other in self._others:
                other.checkpoint(account=False)
            if self._others:
                # The first venue writes the account rows of both (one account per strategy).
                first: Any = self.venue  # a ccxt venue (a paper venue has no hedge)
                first.checkpoint(others=self._others)
            else:
                self.venue.checkpoint()
            books = self._positions
            vname = self.venue.name
            held = dict(books.venue_positions(vname))
            for other in self._others:
                held.update(books.venue_positions(other.name))
            store.write_checkpoint(
                Checkpoint(
                    last_bar=i,
                    last_ns=bar.time_ns,
                    order_seq=self._execution.order_seq,
                    books_cash=books.cash[vname],
                    books_positions=held,
                    open_orders=[o.id for o in self._execution.orders if o.is_active],
                )
            )
            if self._others:
                store.write_venue_cash({v.name: books.cash[v.name] for v in self._others})
            store.write_bar(
                i, bar.time_ns, books.equity(i), books.total_cash(), self._values(i), kill
            )
            closed = self._updates.trades.closed[self._trades_done :]
            if closed:
                store.write_trades(self._trade_seq, [t.as_dict() for t in closed])
            store.commit()
        except BaseException:
            store.rollback()
            raise
        self.venue.committed()
        for other in self._others:
            other.committed()
        self._trades_done += len(closed)
        self._trade_seq += len(closed)
        self.last_bar = i
        self.last_ns = bar.time_ns
        self.bars += 1
        if self.mode is not ExecutionMode.REPLAY and (
            # A long session's files take longer to rewrite: at most ~10 % of the time.
            time.monotonic() - self._exported >= max(EXPORT_EVERY, 10 * self._export_cost)
        ):
            self.export()

    def _reconcile_with_venue(self, name: str, bar: int) -> None:
        """The periodic reconciliation of a real venue (once a bar, after the strategy): the
        tight loop compares after every fill, but an account can also change between fills
        (a fill the venue has not reported, a transfer, another client on the same keys).

        Retried like the tight loop's (`max_retry_attempts`, `retry_delay_seconds · 2^n`);
        a mismatch that stays trips the kill switch to HALTED and fails the container
        with EXEC-005: its books can no longer be trusted."""
        s = self._execution.settings
        problems = self._updates.reconcile(name)
        attempt = 0
        while problems and attempt < s.max_retry_attempts:
            self._clock.sleep(s.retry_delay_seconds * (2**attempt))
            attempt += 1
            problems = self._updates.reconcile(name)
        if not problems:
            return
        self._log.error(
            "periodic_reconciliation_failed",
            venue=name,
            bar=bar,
            attempts=attempt,
            problems=problems,
        )
        raise ReconciliationError(
            f"strategy {self.name!r}: books and venue {name!r} disagree at bar {bar} after "
            f"{attempt} retries ({'; '.join(problems)}); the kill switch is HALTED. Inspect "
            "the venue's account and the log's exchange_* events",
            venue=name,
        )  # step() trips the kill switch to HALTED

    def _values(self, bar: int) -> dict[str, float]:
        """Each symbol's position value at `bar`'s close (zero where nothing is held)."""
        books = self._positions
        out = dict.fromkeys(sorted(self._clock.market.symbols), 0.0)
        for key, qty in books.positions.items():
            if qty:
                symbol = PositionKey.parse(key).symbol
                out[symbol] = out.get(symbol, 0.0) + books.position_value(key, bar)
        return out

    def export(self) -> None:
        """Refresh the export files from the store (a failure is logged, never raised:
        the bar is committed and must not be processed again)."""
        t0 = time.monotonic()
        try:
            export_account(self._store.path, self.name, self.export_dir)
        except (OSError, ValueError) as exc:
            self._log.warning("export_failed", error=repr(exc), folder=str(self.export_dir))
        self._exported = time.monotonic()
        self._export_cost = self._exported - t0

    def health(self) -> Health:
        return health(
            "healthy" if self.started else "degraded",
            last_bar=self.last_bar,
            bars=self.bars,
        )
