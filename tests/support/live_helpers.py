"""Helpers for the live tests: small configs, bounded waits, store readers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from isoloop.live import FeedBar, LiveTradingManager, read_account_rows

SMA = "isoloop.examples.sma_cross:SmaCross"
# EURUSD hourly bars: 1 h of data per 0.2 ms.
FAST_SPEED = 3600 * 5000


def strategy(
    name: str, cls: str = SMA, params: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    p = (
        {"fast": 5, "slow": 20}
        if params is None and cls != "support.live_strategies:KillProbe"
        else params
    )
    return {
        "name": name,
        "strategy": {"class": cls, "params": p or {}},
        "venue": {"name": "paper", "cash": 100000.0, "commission": 0.0002},
        **kw,
    }


def live_config(
    state_dir: Path, strategies: list[dict[str, Any]], *, bars: int = 300, **extra: Any
) -> dict[str, Any]:
    feed = {"source": "sample:EURUSD", "speed": FAST_SPEED, "max_bars": bars}
    feed.update(extra.pop("feed", {}))
    cfg: dict[str, Any] = {
        "kind": "live",
        "state_dir": str(state_dir),
        "tick_interval": 0.002,
        "feed": feed,
        "api": {"enabled": False},
        "restart": {"max_restarts": 2, "backoff": 0.01, "max_backoff": 0.1},
        "shutdown": {"drain_timeout": 5.0, "module_timeout": 2.0, "init_timeout": 30.0},
        "strategies": strategies,
    }
    cfg.update(extra)
    return cfg


def wait_for(pred: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    """A bounded wait (the bound is a safety net, not an assertion about speed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.005)
    if not pred():
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def state_of(m: LiveTradingManager, name: str) -> dict[str, Any]:
    return m.get_state()["strategies"][name]


def publish(m: LiveTradingManager, bars: range | list[int], names: list[str] | None = None) -> None:
    """Feed bars by hand (manager started with feed=False) and wait until each is processed."""
    assert m.feed is not None
    for i in bars:
        m.feed.publish(FeedBar(i, m.feed.times[i]))
    last = max(bars)
    for n in names or list(m.get_state()["strategies"]):
        wait_for(lambda n=n: state_of(m, n)["last_bar"] >= last, what=f"{n} to reach bar {last}")


def rows(state_dir: Path, account: str, environment: str = "paper") -> dict[str, Any]:
    return read_account_rows(state_dir / f"{environment}.sqlite", account)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def events(state_dir: Path, name: str, event: str) -> list[dict[str, Any]]:
    return [r for r in read_jsonl(state_dir / "logs" / f"{name}.jsonl") if r.get("event") == event]
