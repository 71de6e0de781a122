"""An operator's kill-switch trip survives a SIGKILLed manager: the restarted process
re-applies it before any container trades, and only an explicit reset clears it."""

from __future__ import annotations

import json
import secrets
import signal
from pathlib import Path
from typing import Any

import pytest

from isoloop.live import ControlClient, read_kill_audit
from support.live_helpers import read_jsonl, wait_for
from support.live_process import (
    TOKEN_ENV,
    LiveProcess,
    cli,
    last_bar,
    live_env,
    order_count,
    paper_three_config,
)

pytestmark = pytest.mark.live

NAMES = ("fast", "medium", "slow")
# paper_three's EURUSD replay, all of it, at 5 ms per hourly bar (the run outlasts the test).
SPEED = 3600 * 200
MAX_BARS = 5000
# Held HALTED for this many bars (a few seconds of replay) after the restart.
REPLAYED_WHILE_HALTED = 500


def _kill(url: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    done = cli(["live", "kill", *args, "--url", url], env)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def _client(url: str, env: dict[str, str]) -> ControlClient:
    return ControlClient(url, env[TOKEN_ENV])


def _status(url: str, env: dict[str, str]) -> dict[str, Any]:
    client = _client(url, env)
    return {"health": client.health(), "strategies": client.strategies()}


def _settle_after_trip(db: Path, names: tuple[str, ...], proc: LiveProcess) -> dict[str, int]:
    """Orders per strategy once every container is two bars past the trip (a bar that was
    in flight when the trip arrived may still commit an order it had already placed)."""
    marks = {n: last_bar(db, n) for n in names}
    for n in names:
        wait_for(
            lambda n=n: last_bar(db, n) >= marks[n] + 2 or proc.proc.poll() is not None,
            what=f"{n} past the trip",
        )
    assert proc.proc.poll() is None, proc.stderr()
    return {n: order_count(db, n) for n in names}


def _trip_then_sigkill(
    tmp_path: Path, strategy: str | None, env: dict[str, str]
) -> tuple[Path, Path, dict[str, int]]:
    """Start paper_three, trip HALTED (global: through the CLI; one strategy: through the
    API) once `fast` has traded, let the trip settle, then SIGKILL the manager."""
    state = tmp_path / "state"
    config = paper_three_config(tmp_path / "live.yaml", state, speed=SPEED, feed_max_bars=MAX_BARS)
    db = state / "paper.sqlite"
    first = LiveProcess(config, state, env, "first")
    try:
        url = first.url()
        wait_for(
            lambda: order_count(db, "fast") >= 3 or first.proc.poll() is not None,
            what="fast to trade",
        )
        assert first.proc.poll() is None, first.stderr()
        if strategy is None:
            _kill(url, env, "--state", "HALTED", "--reason", "restart test")
        else:
            _client(url, env).kill("HALTED", strategy, "restart test")
        tripped = _settle_after_trip(db, NAMES, first)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=30)
        assert first.proc.returncode == -signal.SIGKILL
    finally:
        first.close()
    return config, state, tripped


def _replay_past(db: Path, proc: LiveProcess, names: tuple[str, ...], bars: int) -> None:
    """Wait until every container has processed `bars` more bars in this process."""
    start = {n: last_bar(db, n) for n in names}
    for n in names:
        wait_for(
            lambda n=n: last_bar(db, n) >= start[n] + bars or proc.proc.poll() is not None,
            timeout=120,
            what=f"{n} to replay {bars} bars",
        )
    assert proc.proc.poll() is None, proc.stderr()


def _new_lines(path: Path, skip: int) -> list[dict[str, Any]]:
    return read_jsonl(path)[skip:]


def test_global_halt_survives_sigkill_until_an_operator_resets_it(tmp_path: Path) -> None:
    env = live_env(secrets.token_hex(16))
    config, state, tripped = _trip_then_sigkill(tmp_path, None, env)
    db = state / "paper.sqlite"
    assert tripped["fast"] >= 3
    logs = {n: len(read_jsonl(state / "logs" / f"{n}.jsonl")) for n in NAMES}

    second = LiveProcess(config, state, env, "second")
    try:
        url = second.url()
        _replay_past(db, second, NAMES, REPLAYED_WHILE_HALTED)
        # Zero new orders: the trip was re-applied before any container traded.
        assert {n: order_count(db, n) for n in NAMES} == tripped
        status = _status(url, env)
        assert status["health"]["kill_switch"] == "HALTED"
        for n in NAMES:
            assert status["strategies"][n]["kill_switch"] == "HALTED"
            new = _new_lines(state / "logs" / f"{n}.jsonl", logs[n])
            events = [e["event"] for e in new]
            # The risk manager was HALTED before the container came up ...
            assert events.index("kill_switch") < events.index("startup_reconciled")
            assert new[events.index("kill_switch")]["to"] == "HALTED"
            # ... and the strategy kept trying: its orders were denied, not lost.
            if n == "fast":
                denied = [e for e in new if e["event"] == "order_denied"]
                assert denied and all("HALTED" in str(e["reason"]) for e in denied)

        # Only the operator's explicit reset lets it trade again.
        assert _kill(url, env, "--state", "ACTIVE", "--reason", "all clear")["state"] == "ACTIVE"
        wait_for(
            lambda: order_count(db, "fast") > tripped["fast"] or second.proc.poll() is not None,
            timeout=120,
            what="fast to trade after the reset",
        )
        assert second.proc.poll() is None, second.stderr()
        second.proc.send_signal(signal.SIGTERM)
        second.proc.wait(timeout=60)
        assert second.proc.returncode == 0, second.stderr()
        assert "Traceback" not in second.stderr()
    finally:
        second.close()

    audit = [(a["scope"], a["state"]) for a in read_kill_audit(db)]
    assert audit == [("global", "HALTED"), ("global", "ACTIVE")]
    assert [(a["scope"], a["state"]) for a in read_jsonl(state / "audit.jsonl")] == audit
    restored = [
        e for e in read_jsonl(state / "manager.jsonl") if e.get("event") == "kill_switch_restored"
    ]
    assert [(e["scope"], e["state"], e["reason"]) for e in restored] == [
        ("global", "HALTED", "restart test")
    ]

    # The reset is durable too: a third start trades from its first bar on.
    third = LiveProcess(config, state, env, "third")
    try:
        url = third.url()
        assert _status(url, env)["health"]["kill_switch"] == "ACTIVE"
    finally:
        third.close()


def test_per_strategy_halt_survives_sigkill_and_leaves_the_others_trading(
    tmp_path: Path,
) -> None:
    env = live_env(secrets.token_hex(16))
    config, state, tripped = _trip_then_sigkill(tmp_path, "fast", env)
    db = state / "paper.sqlite"

    second = LiveProcess(config, state, env, "second")
    try:
        url = second.url()
        _replay_past(db, second, NAMES, REPLAYED_WHILE_HALTED)
        assert order_count(db, "fast") == tripped["fast"]
        # The others were never halted and kept trading across the restart.
        assert order_count(db, "medium") > tripped["medium"]
        strategies = _status(url, env)["strategies"]
        assert {n: strategies[n]["kill_switch"] for n in NAMES} == {
            "fast": "HALTED",
            "medium": "ACTIVE",
            "slow": "ACTIVE",
        }
        assert _client(url, env).kill("ACTIVE", "fast", "reset")["state"] == "ACTIVE"
        wait_for(
            lambda: order_count(db, "fast") > tripped["fast"] or second.proc.poll() is not None,
            timeout=120,
            what="fast to trade after its reset",
        )
        assert second.proc.poll() is None, second.stderr()
    finally:
        second.close()
    audit = [(a["scope"], a["state"]) for a in read_kill_audit(db)]
    assert audit == [("fast", "HALTED"), ("fast", "ACTIVE")]
