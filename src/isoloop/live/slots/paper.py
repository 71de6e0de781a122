"""The paper venue: the simulated venue's fill and cost models against the live feed,
one sub-account per strategy, its state persisted in SQLite at every checkpoint."""

from __future__ import annotations

import math
from typing import Any

from isoloop.config.models import VenueConfig
from isoloop.engine.clock import SimulatedClock
from isoloop.engine.market import AlignedSymbol
from isoloop.live.router import OrderRouter
from isoloop.live.slots.credentials import VenueCredentials
from isoloop.live.slots.store import AccountStore
from isoloop.model.events import ExecutionHandshake, Fill
from isoloop.model.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from isoloop.model.positions import PositionKey
from isoloop.venues.simulated import SimulatedVenue

__all__ = ["PaperVenue", "order_from_record"]


def order_from_record(rec: dict[str, Any]) -> Order:
    """Rebuild a persisted open order exactly as the venue last saw it."""
    o = Order(
        rec["id"],
        rec["symbol"],
        Side(rec["side"]),
        rec["size"],
        venue=rec["venue"],
        type=OrderType(rec["type"]),
        tif=TimeInForce(rec["tif"]),
        limit=rec["limit"],
        stop=rec["stop"],
        equity_fraction=rec["equity_fraction"],
        position_type=rec.get("position_type", "spot"),
        submitted_bar=rec["submitted_bar"],
        tag=rec.get("tag"),
        reduce_only=rec["reduce_only"],
    )
    # Restored, not re-lived: the state machine already ran when the order was live.
    o.status = OrderStatus(rec["status"])
    o.filled = rec["filled"]
    o.avg_price = math.nan if rec["avg_price"] is None else rec["avg_price"]
    o.last_fill_bar = rec["last_fill_bar"]
    o.triggered = rec.get("triggered", False)
    o.reason = rec.get("reason")
    return o


def _record(o: Order) -> dict[str, Any]:
    rec = o.to_record()
    rec.update(
        position_type=o.position_type,
        tag=o.tag,
        triggered=o.triggered,
        reason=o.reason,
    )
    return rec


class PaperVenue(SimulatedVenue):
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
        super().__init__(settings, clock, log)
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
            self.cash = stored.cash
            self.positions = {k: q for k, q in stored.positions.items() if q}
            for key in self.positions:
                self._key_close[key] = self._close_of(key)
            self.working = [order_from_record(r) for r in stored.open_orders]
            self.fill_seq = stored.fills
            self.fills = stored.fills
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

    def _close_of(self, key: str) -> list[float]:
        sym: AlignedSymbol = self._market[PositionKey.parse(key).symbol]
        return sym.close_l

    # -- order entry goes through the shared router ---------------------------------
    def submit(self, order: Order, front: bool = False) -> ExecutionHandshake:
        hs = self._router.route(
            self.sub_account, self, order, lambda o: SimulatedVenue.submit(self, o, front)
        )
        self._touched[order.id] = order
        self.orders_total += 1
        return hs

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
        hs = super()._execute(
            order, sym, i, time_index=time_index, price=price, sign=sign, final=final
        )
        self._touched[order.id] = order
        if hs is not None and hs.fills:
            self._new_fills.extend(hs.fills)
        return hs

    def cancel(self, order: Order, reason: str) -> ExecutionHandshake:
        self._touched[order.id] = order
        return super().cancel(order, reason)

    def expire(self, order: Order, reason: str) -> ExecutionHandshake:
        self._touched[order.id] = order
        return super().expire(order, reason)

    # -- persistence ------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Write the account's changes into the store's open transaction."""
        for o in self.working:
            self._touched[o.id] = o
        self._store.write_account(
            self.name,
            self.cash,
            self.positions,
            [_record(o) for _, o in sorted(self._touched.items())],
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
