"""What `LiveTradingManager.get_state()` reports, for the manager and per strategy.

Per strategy: the container's own counters (`RunContainer.get_state`) plus what the
manager knows about it: the execution mode, the tick interval, the last error (a
retried tick error or the fatal one), whether the operator paused it, and its
sub-account (`isoloop.live.state_view.account_view`). For the manager: totals of the
same (errors, restarts = recoveries, the latest tick and the latest error).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from isoloop.data import MarketData
from isoloop.engine.risk import KillSwitchState
from isoloop.errors import ConfigError
from isoloop.live.config import LiveConfig
from isoloop.live.feed import ReplayFeed
from isoloop.live.hooks import HookDispatcher
from isoloop.live.runner import RunContainer
from isoloop.live.state_view import account_view
from isoloop.live.supervisor import Supervisor
from isoloop.model.modes import ExecutionMode
from isoloop.scope import ComponentState

__all__ = ["ManagerStateMixin"]

_SUMMARY_KEYS = ("state", "ticks", "orders", "fills", "restarts", "errors")


class ManagerStateMixin:
    """State reads of `LiveTradingManager`; the host provides the attributes below."""

    config: LiveConfig
    feed: ReplayFeed | None
    hooks: HookDispatcher
    supervisor: Supervisor
    kill_state: KillSwitchState
    _lock: threading.RLock
    _containers: dict[str, RunContainer]
    _modes: dict[str, ExecutionMode]
    _paused_names: set[str]
    _market: MarketData | None
    _store_path: Path
    _live: LiveConfig

    def _named(self, name: str) -> RunContainer:
        with self._lock:
            c = self._containers.get(name)
            if c is None:
                running = ", ".join(sorted(self._containers))
                raise ConfigError(f"no strategy named {name!r} (running: {running})")
            return c

    @property
    def mode(self) -> ExecutionMode:
        paper = self.config.environment == "paper"
        return ExecutionMode.PAPER_TRADING if paper else ExecutionMode.LIVE_TRADING

    def account(self, name: str, c: RunContainer | None = None) -> dict[str, Any]:
        """The strategy's sub-account as last committed: cash, equity, P&L, positions,
        open orders and the most recent fills."""
        if c is None:
            c = self._named(name)
        try:
            cash = self._live.strategy(name).venue.cash
        except Exception:  # removed meanwhile: no baseline for the P&L
            cash = 0.0
        return account_view(
            self._store_path, name, market=self._market, last_bar=c.last_bar, initial_cash=cash
        )

    def strategy_state(self, name: str, c: RunContainer | None = None) -> dict[str, Any]:
        if c is None:
            c = self._named(name)
        st = c.get_state()
        st["mode"] = self._modes.get(name, self.mode).value
        st["tick_interval"] = self.config.tick_interval
        st["last_error"] = self.hooks.last_errors.get(name)
        st["paused_by_operator"] = name in self._paused_names
        st["account"] = self.account(name, c)
        return st

    def get_state(self) -> dict[str, Any]:
        with self._lock:
            containers = sorted(self._containers.items())
        feed = self.feed
        strategies = {name: self.strategy_state(name, c) for name, c in containers}
        errors = [
            {"strategy": n, **st["last_error"]}
            for n, st in strategies.items()
            if st["last_error"] is not None
        ]
        ticks = [st["last_tick"] for st in strategies.values() if st["last_tick"] is not None]
        return {
            "environment": self.config.environment,
            "mode": self.mode.value,
            "tick_interval": self.config.tick_interval,
            "kill_switch": self.kill_state,
            "errors": sum(st["errors"] for st in strategies.values()),
            "restarts": sum(st["restarts"] for st in strategies.values()),
            "last_tick": max(ticks, default=None),
            "last_error": max(errors, key=lambda e: str(e["time"]), default=None),
            "feed": {
                "published": 0 if feed is None else feed.published,
                "bars": 0 if feed is None else feed.n_bars,
                "done": feed is not None and feed.done.is_set(),
            },
            "strategies": strategies,
        }

    def summary(self) -> dict[str, Any]:
        """The `isoloop live --json` object."""
        with self._lock:
            containers = sorted(self._containers.items())
        return {
            "strategies": {
                name: {k: st[k] for k in _SUMMARY_KEYS}
                for name, st in ((n, c.get_state()) for n, c in containers)
            }
        }

    def settled(self) -> bool:
        """The feed is done and every container is through it, stopped, or given up."""
        feed = self.feed
        if feed is None or not feed.done.is_set():
            return False
        last = feed.n_bars - 1
        with self._lock:
            containers = list(self._containers.values())
        for c in containers:
            if c.state is ComponentState.FAILED:
                if self.supervisor.pending(c.name):
                    return False
                if c.name not in self.supervisor.gave_up:
                    return False
            elif c.state in (ComponentState.RUNNING, ComponentState.PAUSED):
                if c.last_bar < last:
                    return False
            elif c.state is not ComponentState.STOPPED:
                return False
        return True

    def wait_settled(self, timeout: float, poll: float = 0.01) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.settled():
                return True
            time.sleep(poll)
        return self.settled()
