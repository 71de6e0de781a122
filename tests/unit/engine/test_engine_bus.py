"""The run's event bus: subscribers see bars, orders, fills and position updates in order."""

from __future__ import annotations

from typing import Any

from backtesting.test import GOOG

from isoloop.engine import EventBus
from isoloop.examples.sma_cross import SmaCross
from isoloop.model import BarEvent, FillEvent, OrderEvent, PositionUpdate
from support.harness import build, make_config, market

MD = market(("GOOG", GOOG))


def test_subscribers_receive_every_kind_of_event() -> None:
    bus = EventBus()
    seen: dict[type, list[Any]] = {BarEvent: [], OrderEvent: [], FillEvent: [], PositionUpdate: []}
    for kind, store in seen.items():
        bus.subscribe(kind, store.append)
    r = build(make_config(), MD, SmaCross, {"fast": 10, "slow": 30}, bus=bus)
    out = r.engine.run()
    bars = seen[BarEvent]
    assert [b.bar for b in bars] == list(range(30, len(GOOG)))  # from the first tradable bar
    fills = [f.fill for f in seen[FillEvent]]
    assert sum(abs(f.qty) for f in fills) == sum(o["filled"] for o in out.orders)
    assert sum(f.qty for f in fills) == 0  # every position is closed by the end
    updates = seen[PositionUpdate]
    assert updates[-1].qty == 0.0 and updates[-1].key == "sim:spot:GOOG"
    assert updates[-1].cash == r.venue.cash
    final_status = {}
    for e in seen[OrderEvent]:
        final_status[e.order_id] = e.status.value
    assert final_status == {o["id"]: o["status"] for o in out.orders}


def test_no_subscribers_means_no_events_are_built() -> None:
    bus = EventBus()
    r = build(make_config(), MD, SmaCross, {"fast": 10, "slow": 30}, bus=bus)
    r.engine.run()
    assert bus.published == 0
    assert bus.health().detail == {"published": 0, "subscriptions": 0}
