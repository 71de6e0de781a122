"""The per-bar half of `CcxtVenue`: polling working orders, block legs, cancels, and the
checkpoint that writes the books' view of the journal inside the bar's transaction."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from isoloop.engine.health import Health, health
from isoloop.engine.venue import HandshakeSink
from isoloop.errors import EngineError
from isoloop.model.events import ExecutionHandshake, Fill
from isoloop.model.orders import Order, OrderStatus
from isoloop.venues.ccxt.client import ExchangeClient, RequestFailed
from isoloop.venues.ccxt.journal import Journal, JournalRow
from isoloop.venues.ccxt.tracking import Tracked, TradeEffect, order_record

__all__ = ["VenueSteps", "merge_handshakes"]

_S = OrderStatus


def merge_handshakes(
    order: Order, venue: str, parts: list[ExecutionHandshake]
) -> ExecutionHandshake:
    """Several steps of one order as one answer (a block leg is applied once)."""
    deltas: dict[str, float] = {}
    for hs in parts:
        for key, qty in hs.deltas:
            deltas[key] = deltas.get(key, 0.0) + qty
    return ExecutionHandshake(
        order.id,
        venue,
        order.status,
        tuple(f for hs in parts for f in hs.fills),
        tuple(deltas.items()),
        sum(hs.cash_delta for hs in parts),
        sum(hs.fees for hs in parts),
        parts[-1].bar,
        order.reason if not order.is_active else None,
    )


class VenueSteps:
    name: str
    working: list[Order]
    client: ExchangeClient
    fill_seq: int
    fills: int
    _log: Any
    _store: Any
    _journal: Journal | None
    _tracked: dict[str, Tracked]
    _adoptable: dict[str, Tracked]
    _unreported: dict[str, TradeEffect]
    _touched: dict[str, Tracked]
    _new_fills: list[Fill]
    _first_checkpoint: bool
    _fill_wait: float
    _poll: float

    if TYPE_CHECKING:  # CcxtVenue's own methods, declared for the type checker

        def submit(self, order: Order, front: bool = False) -> ExecutionHandshake: ...

        def _lookup(self, t: Tracked) -> dict[str, Any] | None: ...

        def _update(self, t: Tracked, answer: dict[str, Any]) -> ExecutionHandshake: ...

        def _hs(self, order: Order, reason: str | None = None) -> ExecutionHandshake: ...

        @property
        def cash(self) -> float: ...

        @property
        def positions(self) -> dict[str, float]: ...

    # -- polling --------------------------------------------------------------------------
    def _poll_once(self, t: Tracked) -> ExecutionHandshake | None:
        """The order's state at the exchange; None (logged) when the exchange cannot say now."""
        try:
            answer = self._lookup(t)
        except EngineError as err:
            self._log.warning(
                "exchange_poll_failed", venue=self.name, order_id=t.order.id, error=str(err)
            )
            return None
        if answer is None:
            self._log.warning("exchange_order_missing", venue=self.name, order_id=t.order.id)
            return None
        return self._update(t, answer)

    def process_bar(self, bar: int, sink: HandshakeSink, final: bool = False) -> None:
        """Ask the exchange about every working order; report each change, one at a time."""
        for order in tuple(self.working):
            t = self._tracked.get(order.id)
            if t is None or not order.is_active:
                continue
            before = (order.status, order.filled)
            hs = self._poll_once(t)
            if hs is not None and (hs.fills or (order.status, order.filled) != before):
                sink(order, hs)

    def execute_now(self, order: Order, bar: int) -> ExecutionHandshake:
        """A block leg: place it and wait (up to `fill_wait` s) for its fill; what has not
        filled by then is cancelled, so the block rolls back (EXEC-006, retried)."""
        try:
            parts = [self.submit(order)]
        except EngineError as err:
            if order.status is _S.ROUTED:
                order.transition(_S.REJECTED, str(err))
            return self._hs(order, str(err))
        t = self._tracked.get(order.id)
        deadline = time.monotonic() + self._fill_wait
        while t is not None and order.is_active and time.monotonic() < deadline:
            time.sleep(self._poll)
            hs = self._poll_once(t)
            if hs is not None:
                parts.append(hs)
        if order.is_active:
            parts.append(self.cancel(order, "block leg not filled in time"))
        return merge_handshakes(order, self.name, parts)

    def liquidate(self, order: Order, bar: int) -> ExecutionHandshake:
        return self.execute_now(order, bar)

    def write_off(self) -> ExecutionHandshake:
        """An exchange account is never written off here: nothing changes."""
        return ExecutionHandshake("WRITE-OFF", self.name, _S.FILLED, reason="not at an exchange")

    def cancel(self, order: Order, reason: str) -> ExecutionHandshake:
        t = self._tracked.get(order.id)
        if not order.is_active:
            return self._hs(order, reason)
        if t is None or t.exchange_id is None:
            order.transition(_S.CANCELLED, reason)
            if order in self.working:
                self.working.remove(order)
            return self._hs(order, reason)
        if order.status is not _S.PENDING_CANCEL:
            order.transition(_S.PENDING_CANCEL, reason)
        try:
            self.client.call("cancel_order", t.exchange_id, t.symbol)
        except RequestFailed as f:
            # Already filled or gone: the lookup below says which.
            self._log.warning(
                "exchange_cancel_failed", venue=self.name, order_id=order.id, fault=f.fault
            )
        hs = self._poll_once(t)
        return hs if hs is not None else self._hs(order, reason)

    # -- persistence (the live engine's checkpoint) -----------------------------------------
    def checkpoint(self, account: bool = True, others: Sequence[VenueSteps] = ()) -> None:
        """Write the touched orders' journal rows and, with `account` (the container's first
        venue), the account rows into the bar's transaction: this venue's cash, and the
        orders, fills and positions of this venue and of `others` (a basis container's
        hedge venue, checkpointed first with `account=False`), fills numbered in turn."""
        if self._first_checkpoint:
            self._first_checkpoint = False
            self._drop_orphans()
        if self._journal is not None:
            self._journal.write(self._journal_rows())
        if self._store is None or not account:
            return
        records = [order_record(t.order) for _, t in sorted(self._touched.items())]
        fills = list(self._new_fills)
        positions = dict(self.positions)
        for other in others:
            records += [order_record(t.order) for _, t in sorted(other._touched.items())]
            fills += other._new_fills
            positions.update(other.positions)
        self._store.write_account(self.name, self.cash, positions, records, fills, self.fill_seq)
        self.fill_seq += len(fills)

    def _journal_rows(self) -> list[JournalRow]:
        return [
            JournalRow(
                oid,
                t.client_id,
                "committed" if t.order.is_active else "done",
                t.exchange_id,
                sorted(t.reported),
                order_record(t.order),
            )
            for oid, t in sorted(self._touched.items())
        ]

    def _drop_orphans(self) -> None:
        """Orders journalled before a restart that the strategy did not create again: their
        trades are no longer hidden, so reconciliation sees (and reports) the difference."""
        for oid, t in sorted(self._adoptable.items()):
            self._log.error(
                "exchange_order_unexplained",
                venue=self.name,
                order_id=oid,
                client_id=t.client_id,
                exchange_id=t.exchange_id,
                trades=len(t.pending),
            )
            for trade_id in t.pending:
                self._unreported.pop(trade_id, None)
        self._adoptable.clear()

    @property
    def pending_fills(self) -> int:
        return len(self._new_fills)

    def committed(self) -> None:
        self._touched.clear()
        self._new_fills.clear()

    def open_order_ids(self) -> list[str]:
        return sorted(o.id for o in self.working if o.is_active)

    def health(self) -> Health:
        return health(
            "healthy" if not self.client.faults else "degraded",
            venue=self.name,
            working=len(self.working),
            fills=self.fills,
            requests=dict(sorted(self.client.requests.items())),
            faults=dict(sorted(self.client.faults.items())),
        )

    def stop(self) -> None:
        """Nothing to close: ccxt's sync client holds a requests session only."""
