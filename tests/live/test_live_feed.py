"""The shared feed: replay at a speed factor, and bad bars dropped (logged, never twice)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from backtesting.test import EURUSD

from isoloop.config.models import DataConfig
from isoloop.data import load_market_data
from isoloop.live import BarGate, FeedBar, LiveTradingManager, ReplayFeed
from isoloop.logging import MemorySink, make_run_logger
from support.live_helpers import events, live_config, publish, state_of, strategy, wait_for

pytestmark = pytest.mark.live


def test_replay_publishes_every_bar_in_order_at_a_speed_factor() -> None:
    md, _ = load_market_data([DataConfig(source="sample:EURUSD")], None)
    feed = ReplayFeed(md, speed=3600 * 10_000, max_bars=250)
    got: list[FeedBar] = []
    feed.subscribe("t", got.append)
    feed.start()
    assert feed.done.wait(60)
    feed.stop()
    expected = EURUSD.index[:250].as_unit("ns").asi8.tolist()
    assert [b.bar for b in got] == list(range(250))
    assert [b.time_ns for b in got] == expected
    # A late subscriber is backfilled with everything already published.
    late: list[FeedBar] = []
    feed.subscribe("late", late.append)
    assert late == got


def test_gate_drops_duplicates_out_of_order_and_stale_bars() -> None:
    sink = MemorySink()
    gate = BarGate(make_run_logger(sink, run_id="t", container_id="t"), stale_after_ns=10)
    assert gate.admit(FeedBar(0, 100), now_ns=100)
    assert not gate.admit(FeedBar(0, 100), now_ns=100)
    assert not gate.admit(FeedBar(-1, 90), now_ns=100)
    assert not gate.admit(FeedBar(1, 105), now_ns=200)
    assert gate.admit(FeedBar(2, 195), now_ns=200)
    assert (gate.duplicates, gate.out_of_order, gate.stale) == (1, 1, 1)
    logged = [r["event"] for r in sink.records()]
    assert logged == ["bar_duplicate", "bar_out_of_order", "bar_stale"]


def test_a_container_never_processes_a_bar_twice(tmp_path: Path) -> None:
    # Stale: more than 3 hours of data behind the newest published bar.
    cfg = live_config(
        tmp_path,
        [strategy("log", "support.live_strategies:BarLogger")],
        bars=40,
        feed={"stale_after": 3 * 3600.0},
    )
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        assert m.feed is not None
        for i in range(10):
            publish(m, [i])  # one at a time: none of these is stale
        t = m.feed.times
        m.feed.publish(FeedBar(9, t[9]))  # duplicate
        m.feed.publish(FeedBar(4, t[4]))  # out of order
        publish(m, [10])
        # A paused container falls behind; on resume the old bars are stale.
        m.pause("log")
        for i in range(11, 20):
            m.feed.publish(FeedBar(i, t[i]))
        m.resume("log")
        wait_for(lambda: state_of(m, "log")["last_bar"] == 19, what="bar 19")
        feed_stats = state_of(m, "log")["feed"]
    seen = Counter(e["bar"] for e in events(tmp_path, "log", "seen"))
    assert max(seen.values()) == 1
    assert feed_stats["duplicates"] == 1 and feed_stats["out_of_order"] == 1
    stale = {e["bar"] for e in events(tmp_path, "log", "bar_stale")}
    assert feed_stats["stale"] == len(stale) > 0
    # Bars are hourly: everything more than 3 h behind bar 19 was dropped as stale.
    hours_behind = {i: (t[19] - t[i]) / 3.6e12 for i in range(11, 20)}
    assert stale == {i for i, h in hours_behind.items() if h > 3}
    assert set(seen) == (set(range(1, 20)) - stale)


def test_clock_is_simulated_in_replay_and_real_on_request() -> None:
    import time

    from isoloop.live import load_live_config
    from isoloop.live.slots.clock import LiveClock

    base = {
        "kind": "live",
        "feed": {"source": "sample:EURUSD"},
        "api": {"enabled": False},
        "strategies": [{"name": "s", "strategy": {"class": "isoloop.examples.sma_cross:SmaCross"}}],
    }
    md, _ = load_market_data([DataConfig(source="sample:EURUSD")], None)
    replay = load_live_config(base)
    clock = LiveClock(md, replay.run_config("s"), replay)
    clock.bar = 10
    assert clock.now() == EURUSD.index[10].value / 1e9
    clock.sleep(30.0)  # reconciliation backoff in replay costs no wall time
    assert clock.now() == EURUSD.index[10].value / 1e9 + 30.0

    wall_cfg = load_live_config({**base, "feed": {"source": "sample:EURUSD", "clock": "wall"}})
    wall = LiveClock(md, wall_cfg.run_config("s"), wall_cfg)
    before = time.time()
    now = wall.now()
    assert before <= now <= time.time()
