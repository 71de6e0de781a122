"""A risk limit's own kill-switch trip reaches operator hooks with its reason code."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoloop.live import HookEvent, LiveTradingManager
from support.live_helpers import events, live_config, strategy

pytestmark = pytest.mark.live


def test_daily_loss_limit_trip_is_a_kill_switch_event_coded_daily_loss_limit(
    tmp_path: Path,
) -> None:
    kills: list[HookEvent] = []
    risks: list[HookEvent] = []
    cfg = live_config(tmp_path, [strategy("s", risk={"daily_loss_limit": 0.01})], bars=300)
    with LiveTradingManager(cfg) as m:
        m.register_hook("kill_switch", kills.append)
        m.register_hook("risk", risks.append)
        m.start()
        assert m.wait_settled(60)
        assert m.hooks.wait_idle(30)
        state = m.get_state()["strategies"]["s"]
    assert state["kill_switch"] == "REDUCING"
    assert len(kills) == 1
    trip = kills[0].data
    assert (trip["from"], trip["to"], trip["reason"], trip["by"]) == (
        "ACTIVE",
        "REDUCING",
        "daily_loss_limit",
        "risk",
    )
    assert trip["note"].startswith("daily loss ")
    # The same trip in the container's log, and the denials it caused as `risk` events.
    logged = events(tmp_path, "s", "kill_switch")
    assert [(r["reason"], r["bar"]) for r in logged] == [("daily_loss_limit", trip["bar"])]
    assert risks and {e.data["code"] for e in risks} <= {"daily_loss_limit", "kill_switch"}
    assert all(e.data["bar"] >= trip["bar"] for e in risks)
