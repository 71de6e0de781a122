"""Kill switch in live containers: HALTED, REDUCING, per strategy and global, audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoloop.errors import LiveError
from isoloop.live import LiveTradingManager, read_kill_audit
from support.live_helpers import events, live_config, publish, read_jsonl, rows, state_of, strategy

pytestmark = pytest.mark.live


def _probes(state_dir: Path, name: str) -> dict[tuple[int, str], dict]:
    return {(r["bar"], r["action"]): r for r in events(state_dir, name, "probe")}


def test_halted_and_reducing_reach_every_container(tmp_path: Path) -> None:
    names = ["a", "b"]
    cfg = live_config(
        tmp_path, [strategy(n, "support.live_strategies:KillProbe") for n in names], bars=20
    )
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        publish(m, range(5))
        m.trip("HALTED", "test: halt everything")
        assert all(state_of(m, n)["kill_switch"] == "HALTED" for n in names)
        publish(m, [5])
        m.trip("REDUCING", "test: reduce only")
        publish(m, [6, 7])
        states = {n: state_of(m, n) for n in names}
    for n in names:
        p = _probes(tmp_path, n)
        assert p[(2, "buy10")]["status"] == "ACCEPTED"
        assert p[(3, "rest")]["status"] == "ACCEPTED"
        # HALTED: no new order in either direction, but the resting order can be cancelled.
        assert p[(5, "buy")]["status"] == "DENIED"
        assert "HALTED" in p[(5, "buy")]["reason"]
        assert p[(5, "sell")]["status"] == "DENIED"
        assert p[(5, "cancel")]["status"] == "CANCELLED"
        # REDUCING: a buy adds to the long, selling 2 of 10 reduces it, selling 20 would flip it.
        assert p[(6, "buy")]["status"] == "DENIED"
        assert "REDUCING" in p[(6, "buy")]["reason"]
        assert p[(6, "sell2")]["status"] == "ACCEPTED"
        assert p[(6, "sell20")]["status"] == "DENIED"
        assert states[n]["kill_switch"] == "REDUCING"
        stored = rows(tmp_path, n)
        assert stored["positions"] == {"paper:spot:EURUSD": 8.0}
        assert [o["status"] for o in stored["orders"]] == ["FILLED", "CANCELLED", "FILLED"]
        trips = events(tmp_path, n, "kill_switch")
        assert [(t["to"], t["by"]) for t in trips] == [
            ("HALTED", "operator:global"),
            ("REDUCING", "operator:global"),
        ]
    audit = read_jsonl(tmp_path / "audit.jsonl")
    assert [(a["scope"], a["state"], a["reason"]) for a in audit] == [
        ("global", "HALTED", "test: halt everything"),
        ("global", "REDUCING", "test: reduce only"),
    ]


def test_per_strategy_trip_leaves_the_others_trading(tmp_path: Path) -> None:
    names = ["a", "b"]
    cfg = live_config(
        tmp_path, [strategy(n, "support.live_strategies:KillProbe") for n in names], bars=20
    )
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        publish(m, range(5))
        m.trip("HALTED", "only a", strategy="a")
        publish(m, [5])
        assert state_of(m, "a")["kill_switch"] == "HALTED"
        assert state_of(m, "b")["kill_switch"] == "ACTIVE"
    assert _probes(tmp_path, "a")[(5, "buy")]["status"] == "DENIED"
    assert _probes(tmp_path, "b")[(5, "buy")]["status"] == "ACCEPTED"
    assert read_jsonl(tmp_path / "audit.jsonl")[0]["scope"] == "a"


def test_risk_limit_trips_reducing(tmp_path: Path) -> None:
    """A daily loss limit trips the container's own kill switch (by risk), audited in its log."""
    cfg = live_config(
        tmp_path,
        [strategy("tiny", risk={"daily_loss_limit": 1.0})],
        bars=600,
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.wait_settled(60)
        assert state_of(m, "tiny")["kill_switch"] == "REDUCING"
    trips = events(tmp_path, "tiny", "kill_switch")
    assert trips and trips[0]["by"] == "risk" and trips[0]["to"] == "REDUCING"


def test_global_state_reaches_containers_started_later(tmp_path: Path) -> None:
    cfg = live_config(tmp_path, [strategy("a", "support.live_strategies:KillProbe")], bars=20)
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        m.trip("HALTED", "before b exists")
        m.add_strategy(strategy("b", "support.live_strategies:KillProbe"))
        publish(m, range(6))
        assert state_of(m, "b")["kill_switch"] == "HALTED"
    assert _probes(tmp_path, "b")[(2, "buy10")]["status"] == "DENIED"


def test_operator_trips_are_restored_by_the_next_manager(tmp_path: Path) -> None:
    """Persisted in the store with their audit entry; a new manager on the same state folder
    starts with them; a per-strategy ACTIVE keeps overriding the global state."""
    names = ["a", "b", "c"]
    cfg = live_config(
        tmp_path, [strategy(n, "support.live_strategies:KillProbe") for n in names], bars=20
    )
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        m.trip("HALTED", "only a", strategy="a")
        m.trip("REDUCING", "everyone")  # replaces a's own state
        m.trip("ACTIVE", "b may trade", strategy="b")
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        assert m.kill_state == "REDUCING"
        for n in names:
            assert m.container(n).wait_ready(30)
        assert {n: state_of(m, n)["kill_switch"] for n in names} == {
            "a": "REDUCING",
            "b": "ACTIVE",
            "c": "REDUCING",
        }
        m.trip("ACTIVE", "all clear")
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        for n in names:
            assert m.container(n).wait_ready(30)
        assert m.kill_state == "ACTIVE"
        assert {state_of(m, n)["kill_switch"] for n in names} == {"ACTIVE"}
    trail = [(a["scope"], a["state"]) for a in read_kill_audit(tmp_path / "paper.sqlite")]
    assert trail == [
        ("a", "HALTED"),
        ("global", "REDUCING"),
        ("b", "ACTIVE"),
        ("global", "ACTIVE"),
    ]
    assert [(a["scope"], a["state"]) for a in read_jsonl(tmp_path / "audit.jsonl")] == trail


@pytest.mark.parametrize("halted", [True, False])
def test_a_restored_halt_stops_even_an_order_from_the_strategys_init(
    tmp_path: Path, halted: bool
) -> None:
    """The risk manager is tripped before any module starts: no window for an order."""
    cfg = live_config(
        tmp_path, [strategy("a", "support.live_strategies:BuyInInit", params={})], bars=20
    )
    if halted:
        with LiveTradingManager(cfg) as m:
            m.trip("HALTED", "before the first start")  # before start(): persisted all the same
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        assert m.container("a").wait_ready(30)
        assert state_of(m, "a")["state"] == "running"
    (order,) = events(tmp_path, "a", "init_order")
    if halted:
        assert order["status"] == "DENIED" and "HALTED" in str(order["reason"])
        assert rows(tmp_path, "a")["orders"] == []
    else:
        assert order["status"] == "ACCEPTED"


def test_a_halt_the_store_refuses_still_halts_and_a_reset_it_refuses_does_not_happen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import isoloop.live.manager as manager_module

    def locked(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    cfg = live_config(tmp_path, [strategy("a", "support.live_strategies:KillProbe")], bars=20)
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        assert m.container("a").wait_ready(30)
        monkeypatch.setattr(manager_module, "record_kill_switch", locked)
        with pytest.raises(LiveError, match="NOT persisted"):
            m.trip("HALTED", "store is locked")
        assert state_of(m, "a")["kill_switch"] == "HALTED"
        with pytest.raises(LiveError, match="NOT applied"):
            m.trip("ACTIVE", "store is locked")
        assert state_of(m, "a")["kill_switch"] == "HALTED"
        assert m.kill_state == "HALTED"
    assert read_kill_audit(tmp_path / "paper.sqlite") == []
