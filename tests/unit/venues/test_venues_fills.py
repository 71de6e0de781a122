"""Fill rules of the simulated venue, on hand-made bars with hand-computed answers."""

from __future__ import annotations

from typing import Any

import pytest

from isoloop.backtest import RunOutput
from isoloop.model import OrderStatus, Side, TimeInForce
from isoloop.venues import PassthroughVenue
from support.harness import build, make_config, market
from support.scripted import Scripted, frame

FLAT = (100.0, 101.0, 99.0, 100.0, 1_000.0)


def run(
    rows: list[Any], script: dict[int, Any], freq: str = "D", **venue: Any
) -> tuple[RunOutput, Any]:
    cfg = make_config(data__symbol="X", **{f"venue__{k}": v for k, v in venue.items()})
    r = build(cfg, market(("X", frame(rows, freq))), Scripted, {"script": script})
    r.engine._finalize = False  # keep positions as the fills left them
    out = r.engine.run()
    return out, r


def only(out: RunOutput) -> dict[str, Any]:
    assert len(out.orders) == 1
    return out.orders[0]


def test_market_order_fills_at_next_open() -> None:
    rows = [FLAT, FLAT, (103.0, 104.0, 102.0, 103.5, 1000.0), FLAT]
    out, r = run(rows, {1: lambda s: s.buy(10)})
    o = only(out)
    assert (o["status"], o["avg_price"], o["last_fill_bar"], o["filled"]) == (
        "FILLED",
        103.0,
        2,
        10,
    )
    assert r.venue.positions == {"sim:spot:X": 10.0}
    assert r.venue.cash == pytest.approx(10_000 - 10 * 103.0)


def test_market_order_fills_at_close_with_fill_on_close() -> None:
    rows = [FLAT, (100.0, 101.0, 99.0, 100.7, 1000.0), (103.0, 104.0, 102.0, 103.5, 1000.0), FLAT]
    out, _ = run(rows, {1: lambda s: s.buy(10)}, fill={"on": "close"})
    o = only(out)
    assert (o["avg_price"], o["last_fill_bar"]) == (100.7, 1)


def test_vwap_fill_price() -> None:
    rows = [FLAT, FLAT, (100.0, 110.0, 90.0, 104.0, 1000.0), FLAT]
    out, _ = run(rows, {1: lambda s: s.buy(1)}, fill={"price": "vwap"})
    assert only(out)["avg_price"] == pytest.approx((100 + 110 + 90 + 104) / 4)


def test_buy_stop_triggers_inside_the_range_at_the_stop() -> None:
    rows = [FLAT, FLAT, (100.0, 107.0, 99.0, 106.0, 1000.0), FLAT]
    out, _ = run(rows, {1: lambda s: s.buy(5, stop=105.0)})
    o = only(out)
    assert (o["type"], o["status"], o["avg_price"], o["last_fill_bar"]) == (
        "STOP",
        "FILLED",
        105.0,
        2,
    )


def test_buy_stop_gapped_through_fills_at_the_open() -> None:
    rows = [FLAT, FLAT, (110.0, 112.0, 108.0, 111.0, 1000.0), FLAT]
    out, _ = run(rows, {1: lambda s: s.buy(5, stop=105.0)})
    assert only(out)["avg_price"] == 110.0


def test_sell_stop_gapped_down_fills_at_the_open() -> None:
    rows = [FLAT, FLAT, (90.0, 92.0, 88.0, 91.0, 1000.0), FLAT]
    out, _ = run(rows, {1: lambda s: s.sell(5, stop=95.0)})
    assert only(out)["avg_price"] == 90.0


def test_stop_not_reached_stays_working_then_cancelled_at_run_end() -> None:
    out, _ = run([FLAT] * 5, {1: lambda s: s.buy(5, stop=150.0)})
    o = only(out)
    assert o["status"] == "CANCELLED" and o["filled"] == 0


def test_buy_limit_inside_the_range_fills_at_the_limit() -> None:
    rows = [
        FLAT,
        FLAT,
        (100.0, 101.0, 99.5, 100.0, 1000.0),
        (100.0, 101.0, 97.0, 99.0, 1000.0),
        FLAT,
    ]
    out, _ = run(rows, {1: lambda s: s.buy(5, limit=98.0)})
    o = only(out)
    assert (o["type"], o["avg_price"], o["last_fill_bar"]) == ("LIMIT", 98.0, 3)


def test_buy_limit_gapped_below_fills_at_the_open() -> None:
    rows = [FLAT, FLAT, (95.0, 96.0, 94.0, 95.5, 1000.0), FLAT]
    out, _ = run(rows, {1: lambda s: s.buy(5, limit=98.0)})
    assert only(out)["avg_price"] == 95.0


def test_sell_limit_inside_the_range_fills_at_the_limit() -> None:
    rows = [FLAT, FLAT, (100.0, 103.0, 99.0, 102.0, 1000.0), FLAT]
    out, _ = run(rows, {1: lambda s: s.sell(5, limit=102.5)})
    assert only(out)["avg_price"] == 102.5


def test_stop_limit_triggers_then_fills_at_the_better_of_stop_and_limit() -> None:
    rows = [FLAT, FLAT, (104.0, 107.0, 103.0, 106.0, 1000.0), FLAT]
    out, _ = run(rows, {1: lambda s: s.buy(5, stop=105.0, limit=106.0)})
    o = only(out)
    assert (o["type"], o["avg_price"]) == ("STOP_LIMIT", 105.0)


def test_partial_fills_under_a_volume_limit_carry_over() -> None:
    rows = [
        FLAT,
        FLAT,
        (100.0, 101.0, 99.0, 100.0, 50.0),
        (101.0, 102.0, 100.0, 101.0, 50.0),
        (102.0, 103.0, 101.0, 102.0, 50.0),
        FLAT,
    ]
    seen: list[tuple[str, float]] = []

    def watch(s: Any) -> None:
        o = s.placed[0]
        seen.append((o.status.value, o.filled))

    out, r = run(
        rows, {1: lambda s: s.buy(12), 2: watch, 3: watch, 4: watch}, fill={"volume_limit": 0.1}
    )
    assert seen == [("PARTIAL", 5.0), ("PARTIAL", 10.0), ("FILLED", 12.0)]
    o = only(out)
    assert o["avg_price"] == pytest.approx((5 * 100 + 5 * 101 + 2 * 102) / 12)
    assert r.venue.positions["sim:spot:X"] == 12.0


def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    rows = [FLAT, FLAT, (100.0, 101.0, 99.0, 100.0, 50.0), FLAT]
    out, r = run(rows, {1: lambda s: s.buy(12, tif=TimeInForce.IOC)}, fill={"volume_limit": 0.1})
    o = only(out)
    assert (o["status"], o["filled"]) == ("CANCELLED", 5.0)
    assert r.venue.positions["sim:spot:X"] == 5.0


def test_ioc_limit_not_reached_is_cancelled_unfilled() -> None:
    out, _ = run([FLAT] * 4, {1: lambda s: s.buy(3, limit=50.0, tif=TimeInForce.IOC)})
    o = only(out)
    assert (o["status"], o["filled"], o["last_fill_bar"]) == ("CANCELLED", 0.0, -1)


def test_fok_that_cannot_fill_completely_fills_nothing() -> None:
    rows = [FLAT, FLAT, (100.0, 101.0, 99.0, 100.0, 50.0), FLAT]
    out, r = run(rows, {1: lambda s: s.buy(12, tif=TimeInForce.FOK)}, fill={"volume_limit": 0.1})
    o = only(out)
    assert (o["status"], o["filled"]) == ("CANCELLED", 0.0)
    assert r.venue.positions.get("sim:spot:X", 0.0) == 0.0
    assert r.venue.cash == 10_000.0


def test_fok_that_can_fill_completely_fills() -> None:
    rows = [FLAT, FLAT, (100.0, 101.0, 99.0, 100.0, 500.0), FLAT]
    out, _ = run(rows, {1: lambda s: s.buy(12, tif=TimeInForce.FOK)}, fill={"volume_limit": 0.1})
    assert (only(out)["status"], only(out)["filled"]) == ("FILLED", 12.0)


def test_day_order_expires_at_the_first_bar_of_the_next_day() -> None:
    # Hourly bars: 10:00 .. 15:00 on day one, then the next day's bars follow at 10:00 ...
    rows = [FLAT] * 30
    out, _ = run(rows, {1: lambda s: s.buy(3, limit=50.0, tif=TimeInForce.DAY)}, freq="h")
    o = only(out)
    assert o["status"] == "EXPIRED"


def test_order_larger_than_the_margin_is_rejected() -> None:
    out, r = run([FLAT] * 4, {1: lambda s: s.buy(1_000)})
    o = only(out)
    assert (o["status"], o["filled"]) == ("REJECTED", 0.0)
    assert r.venue.cash == 10_000.0


def test_all_equity_order_buys_whole_units_of_available_margin() -> None:
    rows = [FLAT, FLAT, (99.5, 101.0, 99.0, 100.0, 1000.0), FLAT]
    out, _ = run(rows, {1: lambda s: s.buy()})
    # floor(10_000 · (1 − ε) / 99.5) = 100 units
    assert (only(out)["filled"], only(out)["avg_price"]) == (100.0, 99.5)


def test_close_flattens_and_reverse_flips_the_position() -> None:
    rows = [FLAT, FLAT, FLAT, (102.0, 103.0, 101.0, 102.0, 1000.0), FLAT]
    out, r = run(rows, {1: lambda s: s.buy(10), 2: lambda s: (s.close(), s.sell(4))[1]})
    statuses = [(o["side"], o["status"], o["filled"], o["avg_price"]) for o in out.orders]
    assert statuses == [
        ("BUY", "FILLED", 10.0, 100.0),
        ("SELL", "FILLED", 10.0, 102.0),
        ("SELL", "FILLED", 4.0, 102.0),
    ]
    assert r.venue.positions["sim:spot:X"] == -4.0
    assert out.trades["pnl"].tolist() == [20.0]


def test_passthrough_venue_fills_at_once_at_the_reference_price() -> None:
    cfg = make_config(data__symbol="X")
    rows = [FLAT, (100.0, 101.0, 99.0, 100.5, 1000.0), FLAT]
    r = build(
        cfg,
        market(("X", frame(rows))),
        Scripted,
        {"script": {1: lambda s: s.buy(3), 2: lambda s: s.sell(3, limit=120.0)}},
        venue_factory=lambda clock, log: PassthroughVenue(clock, log, name="sim"),
    )
    out = r.engine.run()
    assert [(o["status"], o["avg_price"], o["last_fill_bar"]) for o in out.orders] == [
        ("FILLED", 100.5, 1),
        ("FILLED", 120.0, 2),
    ]
    assert r.venue.cash == pytest.approx(10_000 - 3 * 100.5 + 3 * 120.0)
    assert out.trades["pnl"].tolist() == pytest.approx([3 * (120.0 - 100.5)])
    assert out.orders[0]["status"] == OrderStatus.FILLED.value and Side.BUY.value == "BUY"


def test_target_orders_the_difference_to_the_wanted_position() -> None:
    rows = [FLAT] * 6
    out, r = run(
        rows, {1: lambda s: s.target(7), 2: lambda s: s.target(3), 3: lambda s: s.target(3)}
    )
    assert [(o["side"], o["size"]) for o in out.orders] == [("BUY", 7.0), ("SELL", 4.0)]
    assert r.venue.positions["sim:spot:X"] == 3.0
