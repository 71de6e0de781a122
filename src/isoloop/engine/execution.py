"""The execution manager: the tight loop every order goes through, one at a time.

route → handshake (validated: EXEC-008) → deltas → `update_state` → reconcile.
Time is the run's clock (simulated in a backtest, wall clock live), and the
settings of `execution` bound it (docs/errors.md says exactly how):

* `execution_timeout` bounds an order's submission: from routing it until the
  venue's answer, retries of a failed submission (EXEC-001) included. A late
  answer is applied (the books follow the venue), then EXEC-007 fails the run.
* `reconciliation_timeout` bounds ONE reconciliation attempt (a venue account
  read that takes longer counts as a mismatch and is retried).
* `tight_loop_timeout` bounds the whole loop of an order, submission and every
  reconciliation wait included; past it the run fails with EXEC-005.
* `max_retry_attempts` × `retry_delay_seconds · 2^attempt` is the backoff of
  every HIGH error (submission, reconciliation, rolled-back blocks).

Severity is policy: CRITICAL fails the run, HIGH is retried then escalates,
MEDIUM rejects the order and the run continues degraded, LOW is logged.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from isoloop.config.models import ExecutionConfig
from isoloop.engine.blocks import BlockExecution, InstructionBlock
from isoloop.engine.bus import EventBus
from isoloop.engine.clock import SimulatedClock
from isoloop.engine.exec_health import ExecutionHealth, check_handshake
from isoloop.engine.health import Health, health
from isoloop.engine.positions import PositionUpdateHandler
from isoloop.engine.risk import RiskManager
from isoloop.engine.tight_loop import TightLoop, debug_of, elapsed_reader, simulated_clock
from isoloop.engine.tradeops import TradeOperations
from isoloop.engine.trades import TradeLedger
from isoloop.engine.venue_manager import VenueInterfaceManager
from isoloop.errors import (
    EngineError,
    ExecutionTimeout,
    InvalidHandshake,
    ReconciliationError,
)
from isoloop.model.events import ExecutionHandshake, FillEvent, OrderEvent, PositionUpdate
from isoloop.model.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from isoloop.model.positions import PositionKey

if TYPE_CHECKING:
    from isoloop.config.models import RunConfig

__all__ = ["ExecutionManager", "InstructionBlock"]

_VALIDATED = OrderStatus.VALIDATED
_DENIED = OrderStatus.DENIED
_FILLED = OrderStatus.FILLED
_MARKET = OrderType.MARKET
_LIMIT = OrderType.LIMIT
_STOP = OrderType.STOP
_STOP_LIMIT = OrderType.STOP_LIMIT


class ExecutionManager(TightLoop, BlockExecution, TradeOperations):
    def __init__(
        self,
        *,
        venues: VenueInterfaceManager,
        position_updates: PositionUpdateHandler,
        risk: RiskManager,
        clock: SimulatedClock,
        log: Any,
        bus: EventBus | None = None,
        settings: ExecutionConfig | None = None,
        config: RunConfig | None = None,
    ) -> None:
        if settings is None:
            settings = config.execution if config is not None else ExecutionConfig()
        self.settings = settings
        # Read on every handshake: plain floats here (the frozen settings model answers
        # an attribute read through its generic lookup, several hundred instructions).
        self._execution_timeout = settings.execution_timeout
        self._reconciliation_timeout = settings.reconciliation_timeout
        self._venues = venues
        self._updates = position_updates
        self._risk = risk
        self._clock = clock
        self._elapsed = elapsed_reader(clock)
        # The same reading as `_elapsed` on a simulated clock, as a field read: the
        # tight loop takes it several times per order (see `_elapsed_now`).
        self._sim_clock = simulated_clock(clock)
        self._log = log
        # Resolved once: a lazy structlog proxy would otherwise re-bind on every call;
        # None when the run's logger drops debug records (a quiet sweep trial), so the
        # handshake's debug fields are not even gathered.
        self._debug = debug_of(log)
        self._bus = bus if bus is not None else EventBus()
        self._seq = 0
        self._block_seq = 0
        self.orders: list[Order] = []
        self.blocks: list[InstructionBlock] = []
        self._pending_blocks: list[InstructionBlock] = []
        self._venue_list = venues.venues()
        self._venue_names = frozenset(venues.names())
        self._default_venue = venues.default
        self.work_lists: tuple[list[Any], ...] = (
            self._pending_blocks,
            *(v.working for v in self._venue_list),
        )
        self.retries = 0
        self.failed: EngineError | None = None
        self.exec_health = ExecutionHealth()
        self._perf = time.perf_counter
        # Venues that keep trades number their SL/TP orders through the run.
        for v in self._venue_list:
            bind = getattr(v, "bind_orders", None)
            if bind is not None:
                bind(self._new_bracket)

    def _elapsed_now(self) -> float:
        """`self._elapsed()`, read straight off a simulated clock (compiled: no call)."""
        sim = self._sim_clock
        return sim.slept if sim is not None else self._elapsed()

    @property
    def default_venue(self) -> str:
        return self._venues.default

    @property
    def risk(self) -> RiskManager:
        return self._risk

    @property
    def ledger(self) -> TradeLedger:
        """The books' trades (open lots, closed trades, brackets), read by trade views."""
        return self._updates.trades

    @property
    def clock(self) -> SimulatedClock:
        return self._clock

    def venue_setting(self, venue: str | None, name: str, default: Any) -> Any:
        """A venue's setting (`spread`, `exclusive_orders`…) or `default` if it has none."""
        v = self._venues.get(venue or self._venues.default)
        settings = getattr(v, "settings", None)
        return getattr(settings, name, default)

    @property
    def order_seq(self) -> int:
        """The number behind the last order id handed out."""
        return self._seq

    def continue_ids(self, last: int) -> None:
        """Resume order ids after `last` (a live container restarting from its checkpoint)."""
        self._seq = max(self._seq, last)

    # -- orders --------------------------------------------------------------
    def new_order(
        self,
        symbol: str,
        side: Side,
        size: float = 0.0,
        *,
        venue: str | None = None,
        type: OrderType | None = None,
        tif: TimeInForce = TimeInForce.GTC,
        limit: float | None = None,
        stop: float | None = None,
        equity_fraction: float | None = None,
        position_type: str = "spot",
        reduce_only: bool = False,
        tag: str | None = None,
        sl: float | None = None,
        tp: float | None = None,
        parent_trade: str | None = None,
    ) -> Order:
        """A RECEIVED order with the run's next id (ids are per run and deterministic)."""
        self._seq += 1
        # f"O{seq:07d}" without the format-spec machinery (≈ 3k instructions an order):
        # the same text for every id this counter gives (it starts at 1).
        digits = str(self._seq)
        if len(digits) < 7:
            digits = "0" * (7 - len(digits)) + digits
        if type is None:
            if limit is None:
                type = _MARKET if stop is None else _STOP
            else:
                type = _LIMIT if stop is None else _STOP_LIMIT
        return Order(
            "O" + digits,
            symbol,
            side,
            size,
            # The first venue registered; it cannot change once the manager has one.
            venue=venue if venue is not None else self._default_venue,
            type=type,
            tif=tif,
            limit=limit,
            stop=stop,
            equity_fraction=equity_fraction,
            position_type=position_type,
            submitted_bar=self._clock.bar,
            tag=tag,
            reduce_only=reduce_only,
            sl=sl,
            tp=tp,
            parent_trade=parent_trade,
        )

    def submit(self, order: Order, *, skip_risk: bool = False, front: bool = False) -> Order:
        """Run one order through the tight loop; returns it in its post-handshake state.

        `front` queues it ahead of the venue's working orders (closes, like
        backtesting.py's, go first)."""
        self.orders.append(order)
        if not skip_risk:
            reason = self._risk.pre_trade(order)
            if reason is not None:
                self._deny(order, reason)
                return order
        t0 = self._perf()
        order.transition(_VALIDATED)
        started = self._elapsed_now()
        hs = self._send(order, front, started)
        self._apply(order, hs, started)
        self.exec_health.order_done(self._perf() - t0)
        return order

    def _deny(self, order: Order, reason: str) -> None:
        # Bad parameters never validate; a risk limit denies a validated order.
        if not reason.startswith("parameters:") and order.status is OrderStatus.RECEIVED:
            order.transition(_VALIDATED)
        order.transition(_DENIED, reason)
        self._log.info("order_denied", order_id=order.id, code="EXEC-002", reason=reason)
        if self._bus.wants(OrderEvent):
            self._bus.publish(OrderEvent(order.id, _DENIED, self._clock.bar, reason))

    def cancel(self, order: Order, reason: str = "cancelled by strategy") -> Order:
        """Cancels always pass, whatever the kill switch says."""
        if order.is_active:
            venue = self._venues.get(order.venue)
            self._apply(order, venue.cancel(order, reason))
        elif order.status is _VALIDATED:
            order.transition(OrderStatus.CANCELLED, reason)
        return order

    def _apply(self, order: Order, hs: ExecutionHandshake, started: float | None = None) -> None:
        try:
            check_handshake(order, hs)
        except InvalidHandshake as err:
            raise self._escalate(err) from None
        if hs.deltas or hs.cash_delta:
            self._updates.update_state(hs, order.tag)
        debug = self._debug
        if debug is not None:
            # StrEnum members render as their value; no per-call list building on this path.
            debug(
                "execution_handshake",
                order_id=order.id,
                venue=hs.venue,
                status=hs.status,
                filled=order.filled,
                cash_delta=hs.cash_delta,
                fees=hs.fees,
                bar=self._clock.bar,
                reason=hs.reason,
            )
        if self._bus.has_subscribers:
            self._publish(order, hs)
        if started is None:
            started = self._elapsed_now()
        else:
            late = self._elapsed_now() - started
            if late > self._execution_timeout:
                # Applied above all the same: the venue has the order, the books must agree.
                raise self._escalate(
                    ExecutionTimeout(
                        f"venue {hs.venue!r} answered order {order.id} after {late:g}s, over "
                        f"execution.execution_timeout {self.settings.execution_timeout:g}s",
                        order_id=order.id,
                    )
                )
        # A router rejection names a venue that does not exist: no account to compare.
        venue = hs.venue
        if venue in self._venue_names:
            # The first attempt inline (it almost always agrees at once); any mismatch
            # or a slow attempt goes on to the retry policy with what it found.
            t0 = self._elapsed_now()
            problems = self._updates.reconcile(venue)
            took = self._elapsed_now() - t0
            if problems or took > self._reconciliation_timeout:
                self._reconcile_with_retries(venue, order, started, first=(problems, took))

    def _publish(self, order: Order, hs: ExecutionHandshake) -> None:
        bus = self._bus
        bar = self._clock.bar
        if bus.wants(FillEvent):
            for f in hs.fills:
                bus.publish(FillEvent(f))
        if hs.deltas and bus.wants(PositionUpdate):
            books = self._updates.monitor
            for key, _ in hs.deltas:
                bus.publish(PositionUpdate(key, books.position(key), books.cash[hs.venue], bar))
        if bus.wants(OrderEvent):
            bus.publish(OrderEvent(order.id, hs.status, bar, hs.reason))

    # -- bars -------------------------------------------------------------------
    def process_bar(self, bar: int, final: bool = False) -> None:
        """Blocks first, then every venue's working orders, each order through the loop."""
        if self._pending_blocks:
            blocks = list(self._pending_blocks)
            self._pending_blocks.clear()
            for block in blocks:
                self._run_block(block, bar)
        apply = self._apply
        for venue in self._venue_list:
            if venue.working:
                venue.process_bar(bar, apply, final)

    def _flatten_order(self, key: str, qty: float, gross: float, tag: str) -> Order:
        """A market order that closes every open trade of the position at `key`."""
        k = PositionKey.parse(key)
        order = self.new_order(
            k.symbol,
            Side.SELL if qty > 0 else Side.BUY,
            gross,
            venue=k.venue,
            position_type=k.position_type,
            reduce_only=True,
            tag=tag,
        )
        order.flatten = True
        return order

    def _open_positions(self, reverse: bool) -> list[tuple[str, float, float]]:
        """(key, net units, units in open trades) of every position with an open trade;
        a hedged position can be flat net and still hold trades both ways."""
        books = self._updates.monitor.positions
        gross: dict[str, float] = {}
        for lot in self._updates.trades.open_trades():
            gross[lot.key] = gross.get(lot.key, 0.0) + abs(lot.size)
        keys = {k for k, q in books.items() if q} | set(gross)
        return [
            (k, books.get(k, 0.0), gross.get(k, abs(books.get(k, 0.0))))
            for k in sorted(keys, reverse=reverse)
        ]

    def close_all(self, tag: str = "finalize") -> list[Order]:
        """Market orders that flatten every open position, ahead of any other working order."""
        out = []
        for key, qty, gross in self._open_positions(reverse=True):
            order = self._flatten_order(key, qty, gross, tag)
            order.submitted_bar = self._clock.bar - 1
            out.append(self.submit(order, skip_risk=True, front=True))
        return out

    def liquidate_all(self, bar: int) -> None:
        """Close every position at `bar`'s close and write off each venue's cash."""
        for key, qty, gross in self._open_positions(reverse=False):
            order = self._flatten_order(key, qty, gross, "liquidation")
            self.orders.append(order)
            order.transition(_VALIDATED)
            order.transition(OrderStatus.ROUTED)
            self._apply(order, self._venues.get(order.venue).liquidate(order, bar))
        for venue in self._venue_list:
            hs = venue.write_off()
            if hs.cash_delta:
                self._updates.update_state(hs)
            if self._updates.reconcile(venue.name):
                raise ReconciliationError(
                    f"books and venue {venue.name!r} disagree after write-off"
                )

    def finish(self, reason: str = "run ended") -> None:
        """Leave no order in a non-terminal state: cancel what is still working."""
        for block in self._pending_blocks:
            for leg in block.legs:
                if leg.status is _VALIDATED:
                    leg.transition(OrderStatus.CANCELLED, reason)
            block.status = "cancelled"
        self._pending_blocks.clear()
        for venue in self._venue_list:
            for order in tuple(venue.working):
                self._apply(order, venue.cancel(order, reason))
        for order in self.orders:
            if order.status is _VALIDATED:
                order.transition(OrderStatus.CANCELLED, reason)

    # -- results ---------------------------------------------------------------------
    def order_records(self) -> list[dict[str, Any]]:
        return [o.to_record() for o in self.orders]

    def health(self) -> Health:
        state = self.exec_health.state
        if self.failed is not None or state == "failed":
            status = "unhealthy"
        elif self.retries or state == "degraded":
            status = "degraded"
        else:
            status = "healthy"
        return health(
            status,  # type: ignore[arg-type]
            orders=len(self.orders),
            reconciliation_retries=self.retries,
            blocks=len(self.blocks),
            rolled_back=sum(1 for b in self.blocks if b.status == "rolled_back"),
            failed=None if self.failed is None else str(self.failed),
            execution=self.exec_health.snapshot(),
        )
