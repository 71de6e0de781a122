"""REPLAY: a recorded paper session re-run through a fresh container reproduces its orders
and fills exactly; a tampered recording is reported, naming the first difference."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from isoloop.cli import main
from isoloop.errors import ConfigError
from isoloop.live import FeedBar, LiveTradingManager
from isoloop.live.recording import read_bars, read_sessions
from isoloop.live.replay import replay_session
from isoloop.model.modes import ExecutionMode
from support.live_helpers import live_config, rows, strategy, wait_for

pytestmark = pytest.mark.live

# Short averages: a cross every few bars, so a few dozen bars make dozens of orders.
BUSY = {"fast": 3, "slow": 8}
BARS = 80


def _record_session(state: Path) -> None:
    """A real paper session: the manager's feed replays BARS bars to two strategies."""
    cfg = live_config(state, [strategy("s", params=BUSY), strategy("t")], bars=BARS)
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.wait_settled(120)


def _publish_until(m: LiveTradingManager, bars: range) -> None:
    assert m.feed is not None
    for i in bars:
        m.feed.publish(FeedBar(i, m.feed.times[i]))
    wait_for(lambda: m.container("s").last_bar >= bars[-1], what=f"bar {bars[-1]}")


def _tamper(state: Path, sql: str, *args: object) -> None:
    db = sqlite3.connect(state / "paper.sqlite")
    try:
        assert db.execute(sql, args).rowcount == 1
        db.commit()
    finally:
        db.close()


def test_a_recorded_paper_session_replays_to_the_same_orders_and_fills(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    _record_session(state)
    recorded = rows(state, "s")
    # The session did trade: the replay has something to reproduce.
    assert len(recorded["orders"]) >= 20 and len(recorded["fills"]) >= 20
    assert [b.bar for b in read_bars(state / "paper.sqlite", "s")] == list(range(BARS))

    report = replay_session(state)
    assert report.mode is ExecutionMode.REPLAY
    assert report.reproduced, [o.differences for o in report.outcomes]
    by_name = {o.strategy: o for o in report.outcomes}
    assert sorted(by_name) == ["s", "t"]
    s = by_name["s"]
    assert (s.bars, s.orders, s.fills) == (BARS, len(recorded["orders"]), len(recorded["fills"]))
    assert (s.replayed_orders, s.replayed_fills) == (s.orders, s.fills)
    # The replay ran in a fresh container: the session's own store is unchanged.
    assert rows(state, "s") == recorded

    assert main(["replay", str(state), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "REPLAY" and out["reproduced"] is True
    assert out["strategies"]["s"]["fills"] == len(recorded["fills"])


def test_a_tampered_recording_is_not_reproduced_and_the_first_difference_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    _record_session(state)
    fills = rows(state, "s")["fills"]
    orders = rows(state, "s")["orders"]
    # A fill price nudged (its order's record left alone).
    target = fills[6]
    _tamper(
        state,
        "UPDATE venue_fills SET price=? WHERE account='s' AND seq=?",
        target["price"] + 0.5,
        target["seq"],
    )
    report = replay_session(state, ["s"])
    (o,) = report.outcomes
    assert not o.reproduced
    first = o.first_difference or ""
    assert first.startswith(f"fill #{target['seq']} (order {target['order_id']})"), first
    assert f"price recorded {target['price'] + 0.5!r}, replayed {target['price']!r}" in first

    # An earlier order's size changed too: now that order is the first difference.
    early = next(r for r in orders if r["submitted_bar"] < target["bar"])
    record = dict(early, size=early["size"] * 2)
    _tamper(
        state,
        "UPDATE venue_orders SET record=? WHERE account='s' AND order_id=?",
        json.dumps(record, sort_keys=True),
        early["id"],
    )
    capsys.readouterr()
    assert main(["replay", str(state), "s"]) == 1
    out = capsys.readouterr().out
    line = out.strip().splitlines()[0]
    assert line.startswith("differs s (")
    assert f"order {early['id']} at bar {early['submitted_bar']}: size recorded" in line
    assert f"fill #{target['seq']}" in out  # the fill is still listed, after it


def test_replay_applies_the_kill_switch_each_bar_ran_under(tmp_path: Path) -> None:
    state = tmp_path / "state"
    cfg = live_config(state, [strategy("s", params=BUSY)], bars=BARS)
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        _publish_until(m, range(30))
        # Replayed while the session's container is still running: what it has so far.
        (now,) = replay_session(state).outcomes
        assert now.reproduced and now.bars == 30, now.differences
        m.trip("HALTED", "news", strategy="s")
        _publish_until(m, range(30, 55))
        m.trip("ACTIVE", "all clear", strategy="s")
        _publish_until(m, range(55, BARS))
    store = state / "paper.sqlite"
    kill = {b.bar: b.kill_switch for b in read_bars(store, "s")}
    assert {kill[i] for i in range(30, 55)} == {"HALTED"}
    assert {kill[i] for i in (*range(30), *range(55, BARS))} == {"ACTIVE"}
    assert replay_session(state).reproduced

    # The same bars replayed as if nobody had halted: the strategy's halted-time orders
    # appear, so the recording is not reproduced.
    db = sqlite3.connect(store)
    db.execute("UPDATE container_bars SET kill_switch='ACTIVE' WHERE account='s'")
    db.commit()
    db.close()
    (o,) = replay_session(state).outcomes
    assert not o.reproduced
    assert o.replayed_orders > o.orders, o.differences


def _one_error_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def test_replay_refuses_bad_input_with_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = _one_error_line(["replay", str(tmp_path / "nope")], capsys)
    assert "no such state folder" in missing
    (tmp_path / "empty").mkdir()
    empty = _one_error_line(["replay", str(tmp_path / "empty")], capsys)
    assert "holds no paper.sqlite or live.sqlite" in empty
    state = tmp_path / "state"
    _record_session(state)
    unknown = _one_error_line(["replay", str(state), "zz"], capsys)
    assert "no recorded session of strategy 'zz' (recorded: s, t)" in unknown
    with pytest.raises(ConfigError, match="no recorded session of strategy 'zz'"):
        replay_session(state, ["zz"])


def test_a_session_restarted_on_its_state_folder_replays_as_one_container(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    cfg = live_config(state, [strategy("s", params=BUSY)], bars=BARS)
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        _publish_until(m, range(40))
    # A new manager on the same folder: the container resumes after its checkpoint.
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        _publish_until(m, range(BARS))
    store = state / "paper.sqlite"
    assert [(s.from_bar, s.mode) for s in read_sessions(store, "s")] == [
        (-1, "PAPER_TRADING"),
        (39, "PAPER_TRADING"),
    ]
    (o,) = replay_session(state).outcomes
    assert o.reproduced, o.differences
    assert (o.bars, o.orders, o.fills) == (BARS, len(rows(state, "s")["orders"]), o.replayed_fills)

    # Started once more with other parameters: one replay cannot cover both configs.
    other = live_config(state, [strategy("s", params={"fast": 4, "slow": 9})], bars=BARS + 5)
    with LiveTradingManager(other) as m:
        m.start(feed=False)
        _publish_until(m, range(BARS, BARS + 5))
    with pytest.raises(ConfigError, match=r"'s' ran with another config from bar 80 on"):
        replay_session(state)
