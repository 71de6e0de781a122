"""`fill.price: vwap` on OHLCV bars, with hand-made bars and answers computed here.

What `vwap` means (docs/orders.md, "Fill prices"): each bar's fill price is the
bar's OHLC average (O+H+L+C)/4, a per-bar VWAP estimate; an order filled over
several bars under `fill.volume_limit` records the volume-weighted mean of its
fills' prices as its `avg_price`. Triggered stops use the estimate but are never
filled better than the stop; limit orders ignore it (the limit bounds the price).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from support.harness import build, make_config, market
from support.scripted import Scripted, frame

FLAT = (100.0, 101.0, 99.0, 100.0, 1_000.0)
# Three thin bars with different ranges: the per-bar averages differ from the opens.
THIN = [
    (100.0, 106.0, 99.0, 104.0, 50.0),
    (104.0, 109.0, 103.0, 108.0, 70.0),
    (108.0, 108.5, 95.0, 96.0, 40.0),
]


def run(rows: list[Any], script: dict[int, Any], **venue: Any) -> tuple[Any, Any]:
    cfg = make_config(data__symbol="X", **{f"venue__{k}": v for k, v in venue.items()})
    r = build(cfg, market(("X", frame(rows, "D"))), Scripted, {"script": script})
    r.engine._finalize = False  # keep positions and trades as the fills left them
    return r.engine.run(), r


def ohlc_average(bar: tuple[float, ...]) -> float:
    o, h, low, c, _ = bar
    return (o + h + low + c) / 4


def volume_capped_fills(size: float, bars: list[tuple[float, ...]], limit: float) -> list[float]:
    """Units filled per bar when each bar lets an order take floor(limit × volume)."""
    left, taken = size, []
    for bar in bars:
        q = min(left, math.floor(limit * bar[4]))
        taken.append(q)
        left -= q
    return taken


def test_order_filled_over_several_bars_records_the_volume_weighted_price() -> None:
    rows = [FLAT, FLAT, *THIN, FLAT]
    out, r = run(rows, {1: lambda s: s.buy(14)}, fill={"price": "vwap", "volume_limit": 0.1})
    qty = volume_capped_fills(14, THIN, 0.1)
    assert qty == [5, 7, 2]  # the bars really split the order three ways
    prices = [ohlc_average(bar) for bar in THIN]
    expected = sum(q * p for q, p in zip(qty, prices, strict=True)) / sum(qty)
    (order,) = out.orders
    assert (order["status"], order["filled"], order["last_fill_bar"]) == ("FILLED", 14.0, 4)
    assert order["avg_price"] == pytest.approx(expected, rel=1e-12)
    # Not the typical price of any one bar, nor the plain mean of the three.
    assert all(abs(order["avg_price"] - p) > 0.1 for p in prices)
    assert abs(order["avg_price"] - sum(prices) / 3) > 0.1
    # Each bar's fill opened a trade at that bar's own estimate, and paid for it.
    entries = sorted((t.entry_bar, t.size, t.entry_price) for t in r.venue.book)
    assert entries == [(2, 5.0, prices[0]), (3, 7.0, prices[1]), (4, 2.0, prices[2])]
    paid = sum(q * p for q, p in zip(qty, prices, strict=True))
    assert r.venue.cash == pytest.approx(10_000 - paid)


def test_selling_over_several_bars_averages_the_same_way() -> None:
    rows = [FLAT, FLAT, *THIN, FLAT]
    out, _ = run(rows, {1: lambda s: s.sell(9)}, fill={"price": "vwap", "volume_limit": 0.1})
    qty = volume_capped_fills(9, THIN, 0.1)
    assert qty == [5, 4, 0]
    prices = [ohlc_average(bar) for bar in THIN[:2]]
    (order,) = out.orders
    assert order["avg_price"] == pytest.approx((5 * prices[0] + 4 * prices[1]) / 9, rel=1e-12)


def test_open_pricing_weights_the_opens_not_the_averages() -> None:
    rows = [FLAT, FLAT, *THIN, FLAT]
    out, _ = run(rows, {1: lambda s: s.buy(14)}, fill={"volume_limit": 0.1})
    opens = [bar[0] for bar in THIN]
    (order,) = out.orders
    assert order["avg_price"] == pytest.approx((5 * opens[0] + 7 * opens[1] + 2 * opens[2]) / 14)


def test_triggered_stop_takes_the_bar_average_but_never_better_than_the_stop() -> None:
    # Average 104.25 is above the stop 103: the stop buys at the average.
    above = (100.0, 108.0, 99.0, 110.0, 1_000.0)
    out, _ = run(
        [FLAT, FLAT, above, FLAT], {1: lambda s: s.buy(3, stop=103.0)}, fill={"price": "vwap"}
    )
    assert out.orders[0]["avg_price"] == pytest.approx(ohlc_average(above))
    # Average 102.5 is below the stop 105: a stop order cannot buy below its trigger.
    below = (100.0, 108.0, 99.0, 103.0, 1_000.0)
    out, _ = run(
        [FLAT, FLAT, below, FLAT], {1: lambda s: s.buy(3, stop=105.0)}, fill={"price": "vwap"}
    )
    assert ohlc_average(below) < 105.0
    assert out.orders[0]["avg_price"] == 105.0


def test_limit_orders_fill_at_their_limit_whatever_the_bar_average() -> None:
    # The bar's average (101.5) is below the buy limit 102, yet the order fills at
    # its limit: the bar only says the price reached 102, not that we bought lower.
    bar = (104.0, 105.0, 97.0, 100.0, 1_000.0)
    assert ohlc_average(bar) < 102.0
    out, _ = run(
        [FLAT, FLAT, bar, FLAT], {1: lambda s: s.buy(3, limit=102.0)}, fill={"price": "vwap"}
    )
    assert out.orders[0]["avg_price"] == 102.0
    # A bar that opens through the limit fills at the open, as without vwap.
    gap = (98.0, 99.0, 90.0, 91.0, 1_000.0)
    out, _ = run(
        [FLAT, FLAT, gap, FLAT], {1: lambda s: s.buy(3, limit=102.0)}, fill={"price": "vwap"}
    )
    assert out.orders[0]["avg_price"] == 98.0


def test_fill_on_close_wins_over_vwap_for_market_orders() -> None:
    prev = (100.0, 101.0, 99.0, 100.7, 1_000.0)
    rows = [FLAT, prev, (103.0, 104.0, 102.0, 103.5, 1_000.0), FLAT]
    out, _ = run(rows, {1: lambda s: s.buy(3)}, fill={"price": "vwap", "on": "close"})
    assert out.orders[0]["avg_price"] == 100.7
