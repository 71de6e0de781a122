"""Severity is policy in a paper container too: the same four outcomes as a backtest.

Each container's venue (a test-only blueprint class) raises an engine error of
one severity on its first submission (the `buy10` at bar 2 of `KillProbe`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoloop.live import LiveTradingManager
from support.live_helpers import events, live_config, publish, state_of, strategy, wait_for

pytestmark = pytest.mark.live

PAPER = Path(__file__).resolve().parents[2] / "containers" / "paper.yaml"
CODES = {"critical": "EXEC-003", "high": "EXEC-001", "medium": "EXEC-004", "low": "EXEC-002"}


def _blueprint(tmp_path: Path, name: str, code: str) -> Path:
    text = PAPER.read_text(encoding="utf-8")
    old = 'class: isoloop.live.slots.paper:PaperVenue\n    args: {settings: "@config.venue"}'
    assert old in text
    new = (
        "class: support.fault_venues:FaultyPaperVenue\n"
        f'    args: {{settings: "@config.venue", fault_code: {code}, fail_times: 1}}'
    )
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace("name: paper", f"name: {name}").replace(old, new), "utf-8")
    return path


def test_each_severity_has_its_documented_outcome_in_a_paper_container(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    strategies = [
        strategy(n, "support.live_strategies:KillProbe", container=str(_blueprint(tmp_path, n, c)))
        for n, c in CODES.items()
    ]
    cfg = live_config(
        state_dir,
        strategies,
        bars=20,
        restart={"max_restarts": 0, "backoff": 0.01, "max_backoff": 0.1},
    )
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        publish(m, range(5), names=["high", "medium", "low"])
        wait_for(lambda: state_of(m, "critical")["state"] == "failed", what="critical to fail")
        states = {n: state_of(m, n) for n in CODES}

    def probes(name: str) -> dict[str, dict]:
        return {p["action"]: p for p in events(state_dir, name, "probe")}

    # CRITICAL: the container fails, and says why.
    crit = states["critical"]
    assert "EXEC-003" in (crit["error"] or "")
    assert crit["execution"]["state"] == "failed"
    assert crit["execution"]["last_errors"][-1]["code"] == "EXEC-003"
    # HIGH: retried with backoff, then accepted; the container runs on, degraded.
    high = states["high"]
    assert high["state"] == "running"
    assert probes("high")["buy10"]["status"] == "ACCEPTED"
    assert [e["retry_in"] for e in events(state_dir, "high", "order_retry")] == [0.1]
    assert high["execution"]["state"] == "degraded"
    assert [e["action"] for e in high["execution"]["last_errors"]] == ["retried"]
    # MEDIUM: the order is rejected, the next one goes through, health says degraded.
    med = states["medium"]
    assert med["state"] == "running"
    assert probes("medium")["buy10"]["status"] == "REJECTED"
    assert "EXEC-004" in probes("medium")["buy10"]["reason"]
    assert probes("medium")["rest"]["status"] == "ACCEPTED"
    assert med["execution"]["state"] == "degraded"
    assert med["health"]["execution"] == "degraded"
    # LOW: logged, nothing else changes.
    low = states["low"]
    assert low["state"] == "running"
    assert probes("low")["buy10"]["status"] == "REJECTED"
    assert probes("low")["rest"]["status"] == "ACCEPTED"
    assert low["execution"]["state"] == "healthy"
    assert low["execution"]["error_count"] == 1
    assert [e["level"] for e in events(state_dir, "low", "order_error")] == ["info"]
    assert low["health"]["execution"] == "healthy"
