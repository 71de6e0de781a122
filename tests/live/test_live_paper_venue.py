"""The paper venue wraps the simulated venue: same fills, routed entry, persisted account."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from isoloop.config.models import DataConfig
from isoloop.data import load_market_data
from isoloop.engine.venue import Venue
from isoloop.live import LiveConfig, OrderRouter, PaperVenue, load_live_config, read_account_rows
from isoloop.live.slots.store import prepare_store, store_path
from isoloop.model.events import ExecutionHandshake
from isoloop.model.orders import Order, OrderStatus, OrderType, Side
from isoloop.scope import RunScope, ScopeCoordinator, SharedServices
from isoloop.venues import SimulatedVenue
from support.live_helpers import live_config, strategy

pytestmark = pytest.mark.live


@contextmanager
def paper_scope(live: LiveConfig, router: OrderRouter) -> Iterator[RunScope]:
    """Strategy `s`'s `paper` scope, built the way the manager builds it (not started:
    the engine's startup reconciliation is not what these tests are about)."""
    md, _ = load_market_data([DataConfig(source=live.feed.source, symbol=live.feed.symbol)], None)
    prepare_store(store_path(live))
    coordinator = ScopeCoordinator(SharedServices(market_data=md, live=live, router=router))
    try:
        with coordinator.scope("paper", config=live.run_config("s"), run_id="s") as run:
            yield run
    finally:
        coordinator.close()


def routed(order_id: str, symbol: str, side: Side, size: float, bar: int, **kw: Any) -> Order:
    order = Order(order_id, symbol, side, size, venue="paper", submitted_bar=bar, **kw)
    order.transition(OrderStatus.VALIDATED)
    order.transition(OrderStatus.ROUTED)
    return order


def test_paper_venue_is_composed_not_a_simulated_venue_subclass(tmp_path: Path) -> None:
    assert not issubclass(PaperVenue, SimulatedVenue)
    live = load_live_config(live_config(tmp_path, [strategy("s")]))
    with paper_scope(live, OrderRouter()) as run:
        venue = run.get("venue")
        assert isinstance(venue, PaperVenue)
        assert isinstance(venue, Venue)  # the protocol the venue interface manager uses
        assert run.get("venues").get("paper") is venue
        assert venue.health().detail["venue"] == "paper"


def test_paper_venue_fills_like_the_simulated_venue_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    live = load_live_config(live_config(tmp_path, [strategy("s")]))
    router = OrderRouter()
    seen: list[tuple[str, ExecutionHandshake]] = []
    with paper_scope(live, router) as run:
        venue, clock, store = run.get("venue"), run.get("clock"), run.get("store")
        symbol = next(iter(clock.market.symbols))
        twin = SimulatedVenue(live.run_config("s").venue, clock, run.log)
        limit = clock.market.symbols[symbol].low_l[3] * 0.5  # far below: stays working
        for v in (venue, twin):
            v.submit(routed("o1", symbol, Side.BUY, 1000.0, 1))
            v.submit(routed("o2", symbol, Side.BUY, 500.0, 1, type=OrderType.LIMIT, limit=limit))
        twin_hs: list[ExecutionHandshake] = []
        for bar in (2, 3):
            clock.bar = bar
            venue.process_bar(bar, lambda o, hs: seen.append((o.id, hs)))
            twin.process_bar(bar, lambda o, hs: twin_hs.append(hs))
        # A block leg: submitted through the router like any other order.
        clock.bar = 4
        leg = venue.execute_now(routed("o3", symbol, Side.SELL, 400.0, 3), 4)
        twin_leg = twin.execute_now(routed("o3", symbol, Side.SELL, 400.0, 3), 4)
        assert [hs for _, hs in seen] == twin_hs and len(twin_hs) == 1
        assert leg == twin_leg and leg.status is OrderStatus.FILLED
        assert (venue.cash, venue.positions, venue.fills) == (twin.cash, twin.positions, 2)
        assert router.routed["s"] == 3 and venue.orders_total == 3
        store.begin()
        venue.checkpoint()
        store.commit()
        venue.committed()
        cash, positions = venue.cash, dict(venue.positions)
    stored = read_account_rows(store_path(live), "s")
    assert [(f["order_id"], f["qty"]) for f in stored["fills"]] == [("o1", 1000.0), ("o3", -400.0)]
    # A restarted container's venue resumes the account: cash, positions, the working limit.
    with paper_scope(live, router) as run:
        again = run.get("venue")
        assert (again.cash, again.positions, again.fills) == (cash, positions, 2)
        assert again.open_order_ids() == ["o2"] and again.orders_total == 3
        assert again.equity(4) == pytest.approx(twin.equity(4))


def test_a_bracketed_trade_keeps_its_stop_loss_and_take_profit_across_a_restart(
    tmp_path: Path,
) -> None:
    live = load_live_config(live_config(tmp_path, [strategy("s")]))
    router = OrderRouter()
    with paper_scope(live, router) as run:
        venue, clock, store = run.get("venue"), run.get("clock"), run.get("store")
        symbol = next(iter(clock.market.symbols))
        bars = clock.market.symbols[symbol]
        sl, tp = bars.low_l[2] * 0.5, bars.high_l[2] * 2.0  # far away: both keep working
        venue.submit(routed("o1", symbol, Side.BUY, 100.0, 1, sl=sl, tp=tp))
        clock.bar = 2
        venue.process_bar(2, lambda o, hs: None)
        (trade,) = venue.book.open
        assert (trade.size, trade.sl, trade.tp) == (100.0, sl, tp)
        assert sorted(o.type for o in venue.working) == [OrderType.LIMIT, OrderType.STOP]
        store.begin()
        venue.checkpoint()
        store.commit()
        venue.committed()
    with paper_scope(live, router) as run:
        again = run.get("venue")
        (trade,) = again.book.open
        # The position came back as one trade, protected by the same two orders.
        assert (trade.size, trade.sl, trade.tp) == (100.0, sl, tp)
        assert {o.parent_trade for o in again.working} == {trade.id}
        # The books' ledger starts from the venue's trade, so the strategy sees it.
        books = run.get("position_updates").trades
        assert [(t.id, t.size) for t in books.open_trades()] == [(trade.id, 100.0)]
