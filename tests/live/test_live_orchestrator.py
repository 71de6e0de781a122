"""Orchestrator controls: global pause/resume, get_state fields, kill-switch and risk hook
events with reason codes, and starting a stopped strategy again (Python, API and CLI)."""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from isoloop.cli import main
from isoloop.config.models import DataConfig
from isoloop.data import load_market_data
from isoloop.errors import ConfigError, ControlError
from isoloop.live import FeedBar, HookEvent, LiveTradingManager
from isoloop.live.config import load_live_config
from isoloop.live.control.client import ControlClient
from isoloop.live.state_view import execution_mode
from support.live_helpers import live_config, publish, rows, state_of, strategy, wait_for

pytestmark = pytest.mark.live


def _api(tmp_path: Path) -> tuple[dict[str, object], Path]:
    token_file = tmp_path / "token"
    token_file.write_text(secrets.token_hex(16) + "\n")
    api = {"enabled": True, "port": 0, "token_env": None, "token_file": str(token_file)}
    return api, token_file


def _push(m: LiveTradingManager, bars: range) -> None:
    """Publish without waiting for anybody to process them."""
    assert m.feed is not None
    for i in bars:
        m.feed.publish(FeedBar(i, m.feed.times[i]))


def test_global_pause_and_resume_reach_every_strategy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api, token_file = _api(tmp_path)
    cfg = live_config(tmp_path / "s", [strategy("a"), strategy("b"), strategy("c")], api=api)
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        assert m.api is not None
        publish(m, range(10))
        base = ["--url", m.api.url, "--token-file", str(token_file)]
        m.stop_strategy("c")
        # CLI: `pause --all` pauses every strategy, bare `pause` still wants a NAME.
        assert main(["live", "pause", *base]) == 2
        assert "or --all for every strategy" in capsys.readouterr().err
        assert main(["live", "pause", "--all", "--json", *base]) == 0
        answer = json.loads(capsys.readouterr().out)
        assert answer == {"scope": "global", "action": "pause", "strategies": ["a", "b", "c"]}
        _push(m, range(10, 20))
        time.sleep(0.3)  # 150 tick intervals: a running container would have moved on
        for n in ("a", "b"):
            st = state_of(m, n)
            assert st["state"] == "paused" and st["paused_by_operator"]
            assert st["last_bar"] == 9 and st["feed"]["queued"] == 10
        # A strategy started while everything is paused starts paused too.
        m.start_strategy("c")
        wait_for(lambda: state_of(m, "c")["state"] == "paused", what="c to start paused")
        assert state_of(m, "c")["last_bar"] == 9
        # Python: resume_all; every one catches up on its queued bars.
        assert m.resume_all() == ["a", "b", "c"]
        for n in ("a", "b", "c"):
            wait_for(lambda n=n: state_of(m, n)["last_bar"] == 19, what=f"{n} to catch up")
            assert state_of(m, n)["state"] == "running"
        # API: POST /pause and /resume.
        client = ControlClient(m.api.url, token_file.read_text().strip())
        assert client.request("POST", "/pause", {})["strategies"] == ["a", "b", "c"]
        assert {st["state"] for st in m.get_state()["strategies"].values()} == {"paused"}
        client.request("POST", "/resume", {})
        assert {st["state"] for st in m.get_state()["strategies"].values()} == {"running"}
        with pytest.raises(ControlError, match="HTTP 400: no strategy named 'nope'"):
            client.request("GET", "/strategies/nope")
    # The global pause is in the manager's log, with the strategies it reached.
    log = [json.loads(x) for x in (tmp_path / "s" / "manager.jsonl").read_text().splitlines()]
    assert any(r["event"] == "strategies_paused" and r["scope"] == "global" for r in log)


def test_get_state_has_mode_tick_interval_errors_recoveries_and_last_tick(
    tmp_path: Path,
) -> None:
    flaky = strategy(
        "flaky", "support.live_strategies:RaiseEveryTenth", {"fast": 5, "slow": 20, "from_bar": 30}
    )
    shaky = strategy(
        "shaky", "support.live_strategies:RecoverOnce", {"fast": 5, "slow": 20, "at_bar": 25}
    )
    cfg = live_config(tmp_path, [flaky, shaky], bars=40, retry_backoff=0.001)
    began = datetime.now(UTC)
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.wait_settled(60)
        st = m.get_state()
    f, s = st["strategies"]["flaky"], st["strategies"]["shaky"]
    for one in (f, s):
        assert one["mode"] == "PAPER_TRADING" and one["tick_interval"] == 0.002
        assert began <= datetime.fromisoformat(one["last_tick"]) <= datetime.now(UTC)
    # flaky: a fatal error at bar 30 on every attempt; two restarts (the policy), then failed.
    assert f["state"] == "failed" and f["restarts"] == 2 and f["errors"] == 3
    assert "model blew up at bar 30" in f["last_error"]["error"]
    assert f["last_error"]["fatal"] is True
    # shaky: two recoverable errors, retried, and it runs on with no restart.
    assert s["state"] == "running" and s["restarts"] == 0 and s["errors"] == 2
    assert "model server unreachable" in s["last_error"]["error"]
    assert s["last_error"]["recoverable"] is True and s["last_bar"] == 39
    # The manager's totals.
    assert st["mode"] == "PAPER_TRADING" and st["tick_interval"] == 0.002
    assert st["errors"] == 5 and st["restarts"] == 2
    assert st["last_tick"] == max(f["last_tick"], s["last_tick"])
    assert st["last_error"]["strategy"] in ("flaky", "shaky")


def test_execution_mode_follows_the_venue_slot(tmp_path: Path) -> None:
    paper = load_live_config(live_config(tmp_path, [strategy("p")]))
    live = load_live_config(
        live_config(tmp_path, [{**strategy("l"), "venue": {"name": "broker"}}], environment="live")
    )
    assert execution_mode(paper, "p").value == "PAPER_TRADING"
    # containers/live.yaml puts a broker adapter (not the paper venue) in the venue slot.
    assert execution_mode(live, "l").value == "LIVE_TRADING"


def test_kill_switch_and_denials_are_hook_events_with_reason_codes(tmp_path: Path) -> None:
    kills: list[HookEvent] = []
    risks: list[HookEvent] = []
    cfg = live_config(tmp_path, [strategy("k", "support.live_strategies:KillProbe")], bars=20)
    with LiveTradingManager(cfg) as m:
        m.register_hook("kill_switch", kills.append)
        m.register_hook("risk", risks.append)
        m.start(feed=False)
        publish(m, range(5))
        m.trip("HALTED", "news at 14:00", strategy="k")
        publish(m, [5])
        m.trip("ACTIVE", "all clear", strategy="k")
        assert m.hooks.wait_idle(30)
    assert [(e.strategy, e.data["from"], e.data["to"], e.data["reason"]) for e in kills] == [
        ("k", "ACTIVE", "HALTED", "operator"),
        ("k", "HALTED", "ACTIVE", "reset"),
    ]
    assert kills[0].data["note"] == "news at 14:00" and kills[0].data["by"] == "operator:k"
    # Bar 5 under HALTED: the buy and the sell are denied by the kill switch check.
    assert [(e.data["bar"], e.data["code"]) for e in risks] == [
        (5, "kill_switch"),
        (5, "kill_switch"),
    ]
    assert all("HALTED" in e.data["reason"] for e in risks)
    # Denied orders never reach the venue: the sub-account holds none of them.
    stored = {o["id"] for o in rows(tmp_path, "k")["orders"]}
    assert len({e.data["order_id"] for e in risks}) == 2
    assert not stored & {e.data["order_id"] for e in risks}


def test_a_stopped_strategy_starts_again_and_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, token_file = _api(tmp_path)
    cfg = live_config(tmp_path / "s", [strategy("x"), strategy("ref")], bars=200, api=api)
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        assert m.api is not None
        base = ["--url", m.api.url, "--token-file", str(token_file)]
        publish(m, range(80))
        assert main(["live", "stop", "x", *base]) == 0
        assert state_of(m, "x")["state"] == "stopped"
        capsys.readouterr()
        with pytest.raises(ConfigError, match="only a stopped or failed strategy"):
            m.start_strategy("ref")
        publish(m, range(80, 150), names=["ref"])
        assert state_of(m, "x")["last_bar"] == 79
        assert main(["live", "start", "x", *base]) == 0
        assert json.loads(capsys.readouterr().out)["strategy"] == "x"
        wait_for(lambda: state_of(m, "x")["last_bar"] == 149, what="x to catch up")
        publish(m, range(150, 200))
        assert state_of(m, "x")["state"] == "running"
        assert main(["live", "start", "x", *base]) == 1  # already running: refused (HTTP 400)
        assert "only a stopped or failed strategy" in capsys.readouterr().err
        wait_for(lambda: state_of(m, "x")["last_bar"] == 199, what="x to reach the end")
        # `isoloop live status` shows equity, P&L and positions, as the store and data say.
        monkeypatch.setenv("COLUMNS", "220")
        assert main(["live", "status", *base]) == 0
        table = capsys.readouterr().out
    closes = load_market_data([DataConfig(source="sample:EURUSD")], None)[0].primary.close
    for name in ("x", "ref"):
        held = rows(tmp_path / "s", name)
        equity = held["cash"] + sum(q * closes[199] for q in held["positions"].values())
        line = next(ln for ln in table.splitlines() if f" {name} " in ln)
        assert f"{equity:,.2f}" in line and f"{equity - 100000:,.2f}" in line
        qty = held["positions"]["paper:spot:EURUSD"]
        assert (f"EURUSD {qty:,.6g}" if qty else "flat") in line
    # Stopped at bar 79, started again: the same orders and fills as the uninterrupted run.
    x, ref = rows(tmp_path / "s", "x"), rows(tmp_path / "s", "ref")
    assert len(x["fills"]) > 4
    key = ("order_id", "qty", "price", "bar")
    assert [tuple(f[k] for k in key) for f in x["fills"]] == [
        tuple(f[k] for k in key) for f in ref["fills"]
    ]
    assert x["cash"] == ref["cash"] and x["positions"] == ref["positions"]
