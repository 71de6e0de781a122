"""The paper venue: the simulated venue's fill and cost models against the live feed,
one sub-account per strategy, its state persisted in SQLite at every checkpoint.

`PaperVenue` wraps a `SimulatedVenue` rather than subclassing it: it implements
the `Venue` protocol by delegation, sends order entry through the shared router,
and notes every order and fill the wrapped venue reports (the handshakes it
returns or passes to the sink), which is what the next checkpoint writes.
"""

from __future__ import annotations

from typing import Any

from isoloop.config.models import VenueConfig
from isoloop.engine.clock import SimulatedClock
from isoloop.engine.health import Health
from isoloop.engine.venue import HandshakeSink
from isoloop.live.router import OrderRouter
from isoloop.live.slots.credentials import VenueCredentials
from isoloop.live.slots.store import AccountStore
from isoloop.model.events import AccountSnapshot, ExecutionHandshake, Fill
from isoloop.model.orders import Order, OrderStatus, order_from_record, persisted_record
from isoloop.venues.accounting import OrderFactory
from isoloop.venues.simulated import SimulatedVenue
from isoloop.venues.tradebook import OpenTrade, TradeBook

__all__ = ["PaperVenue", "order_from_record"]  # order_from_record: re-exported


class PaperVenue:
    """A strategy's sub-account at the paper venue (account = the strategy's name)."""

    def __init__(
        self,
        settings: VenueConfig,
        clock: SimulatedClock,
        log: Any,
        run_id: str,
        store: AccountStore,
        router: OrderRouter,
        credentials: VenueCredentials,
    ) -> None:
        self._sim = SimulatedVenue(settings, clock, log)
        self.name = self._sim.name
        self.sub_account = run_id
        self._store = store
        self._router = router
        self._credentials_keys = credentials.keys
        self._touched: dict[str, Order] = {}
        self._new_fills: list[Fill] = []
        self.fill_seq = 0
        self.orders_total = 0
        stored = store.load_account()
        sent: list[str] = []
        if stored is not None:
            self._sim.restore(
                stored.cash,
                stored.positions,
                [order_from_record(r) for r in stored.open_orders],
                stored.fills,
            )
            self.fill_seq = stored.fills
            self.orders_total = stored.orders
            sent = [
                r[0]
                for r in store.db.execute(
                    "SELECT order_id FROM venue_orders WHERE account=?", (run_id,)
                )
            ]
            log.info(
                "venue_account_loaded",
                account=run_id,
                cash=self.cash,
                positions=self.positions,
                open_orders=[o.id for o in self.working],
                fills=stored.fills,
            )
        router.register(run_id, self, sent)

    # -- the wrapped venue's account ------------------------------------------------
    @property
    def settings(self) -> VenueConfig:
        return self._sim.settings

    @property
    def book(self) -> TradeBook:
        """The open trades (and their SL/TP orders) of the wrapped venue."""
        return self._sim.book

    def bind_orders(self, make_order: OrderFactory) -> None:
        self._sim.bind_orders(make_order)

    def set_bracket(self, trade_id: str, kind: str, price: float | None, bar: int) -> Order | None:
        order = self._sim.set_bracket(trade_id, kind, price, bar)
        if order is not None:
            self._touched[order.id] = order
        return order

    def open_trades(self) -> list[OpenTrade]:
        return self._sim.open_trades()

    @property
    def working(self) -> list[Order]:
        return self._sim.working

    @working.setter
    def working(self, orders: list[Order]) -> None:
        self._sim.working = orders

    @property
    def cash(self) -> float:
        return self._sim.cash

    @property
    def positions(self) -> dict[str, float]:
        return self._sim.positions

    @property
    def fills(self) -> int:
        return self._sim.fills

    def initial_cash(self) -> float:
        return self._sim.initial_cash()

    def reported_cash(self) -> float:
        return self._sim.reported_cash()

    def reported_positions(self) -> dict[str, float]:
        return self._sim.reported_positions()

    def account(self) -> AccountSnapshot:
        return self._sim.account()

    def equity(self, bar: int) -> float:
        return self._sim.equity(bar)

    def health(self) -> Health:
        return self._sim.health()

    # -- order entry goes through the shared router -----------------------------------
    def submit(self, order: Order, front: bool = False) -> ExecutionHandshake:
        sim = self._sim
        hs = self._router.route(self.sub_account, self, order, lambda o: sim.submit(o, front))
        self._touched[order.id] = order
        self.orders_total += 1
        return hs

    def _noted(self, order: Order, hs: ExecutionHandshake) -> ExecutionHandshake:
        self._touched[order.id] = order
        if hs.fills:
            self._new_fills.extend(hs.fills)
        return hs

    def process_bar(self, bar: int, sink: HandshakeSink, final: bool = False) -> None:
        def noted(order: Order, hs: ExecutionHandshake) -> None:
            sink(order, self._noted(order, hs))

        self._sim.process_bar(bar, noted, final)

    def execute_now(self, order: Order, bar: int) -> ExecutionHandshake:
        hs = self.submit(order)
        if hs.status is OrderStatus.REJECTED:
            return hs
        return self._noted(order, self._sim.fill_now(order, bar))

    def liquidate(self, order: Order, bar: int) -> ExecutionHandshake:
        return self._noted(order, self._sim.liquidate(order, bar))

    def write_off(self) -> ExecutionHandshake:
        return self._sim.write_off()

    def cancel(self, order: Order, reason: str) -> ExecutionHandshake:
        self._touched[order.id] = order
        return self._sim.cancel(order, reason)

    def expire(self, order: Order, reason: str) -> ExecutionHandshake:
        self._touched[order.id] = order
        return self._sim.expire(order, reason)

    # -- persistence ------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Write the account's changes into the store's open transaction."""
        for o in self.working:
            self._touched[o.id] = o
        self._store.write_account(
            self.name,
            self.cash,
            self.positions,
            [persisted_record(o) for _, o in sorted(self._touched.items())],
            self._new_fills,
            self.fill_seq,
        )
        self.fill_seq += len(self._new_fills)

    @property
    def pending_fills(self) -> int:
        return len(self._new_fills)

    def committed(self) -> None:
        self._touched.clear()
        self._new_fills.clear()

    def open_order_ids(self) -> list[str]:
        return sorted(o.id for o in self.working if o.is_active)

    def stop(self) -> None:
        self._router.release(self.sub_account, self)
