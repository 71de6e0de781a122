"""Operator hooks: functions and coroutines; raising or blocking hooks are contained."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from isoloop.live import HookEvent, LiveTradingManager
from support.live_helpers import live_config, read_jsonl, rows, state_of, strategy, wait_for

pytestmark = pytest.mark.live


def test_hooks_receive_events_and_bad_hooks_never_stall_the_container(tmp_path: Path) -> None:
    fills: list[HookEvent] = []
    orders: list[HookEvent] = []
    states: list[tuple[str, str]] = []
    unblock = threading.Event()

    async def on_fill(event: HookEvent) -> None:
        await asyncio.sleep(0)
        fills.append(event)

    def on_order(event: HookEvent) -> None:
        orders.append(event)

    def raising(event: HookEvent) -> None:
        raise RuntimeError("operator hook bug")

    def blocking(event: HookEvent) -> None:
        unblock.wait(60)

    cfg = live_config(tmp_path, [strategy("s")], bars=150, hook_timeout=0.1)
    with LiveTradingManager(cfg) as m:
        m.register_hook("fill", on_fill)
        m.register_hook("order", on_order)
        m.register_hook("order", raising)
        m.register_hook("fill", blocking)
        m.register_hook("state", lambda e: states.append((e.strategy, e.data["new"])))
        with pytest.raises(ValueError, match="unknown hook event"):
            m.register_hook("tick", on_order)
        m.start()
        assert m.wait_settled(60)
        assert state_of(m, "s")["last_bar"] == 149
        # The container finished while the blocking hook is still stuck in its first call.
        wait_for(lambda: m.hooks.timed_out >= 1, what="the blocking hook to be reported")
        unblock.set()
        assert m.hooks.wait_idle(60)
    stored = rows(tmp_path, "s")
    assert len(fills) == len(stored["fills"]) > 0
    assert [(e.data["order_id"], e.data["qty"]) for e in fills] == [
        (f["order_id"], f["qty"]) for f in stored["fills"]
    ]
    assert {e.data["order_id"] for e in orders} == {o["id"] for o in stored["orders"]}
    assert ("s", "running") in states
    # The stop happens during shutdown; its event still reaches the hook.
    wait_for(lambda: ("s", "stopped") in states, what="the stopped state event")
    log = read_jsonl(tmp_path / "manager.jsonl")
    assert any(r["event"] == "hook_failed" and "operator hook bug" in r["error"] for r in log)
    assert any(r["event"] == "hook_timeout" for r in log)
