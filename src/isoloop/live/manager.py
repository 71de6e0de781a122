"""`LiveTradingManager`: one long-lived container per strategy, a shared feed and router,
a supervisor, operator hooks, a global kill switch and the control API."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from isoloop.data import MarketData
from isoloop.engine.risk import KillSwitchState, kill_switch_reason
from isoloop.engine.roles import LIVE_ROLES
from isoloop.errors import ConfigError, LiveError
from isoloop.live.config import LiveConfig, LiveStrategyConfig, load_live_config
from isoloop.live.control.api import ControlServer, load_token
from isoloop.live.feed import ReplayFeed
from isoloop.live.feed_factory import build_feed
from isoloop.live.hooks import Hook, HookDispatcher, HookLogSink
from isoloop.live.manager_state import ManagerStateMixin
from isoloop.live.preflight import check_exchange_credentials
from isoloop.live.router import OrderRouter
from isoloop.live.runner import RunContainer
from isoloop.live.slots.store import (
    GLOBAL_SCOPE,
    load_kill_switches,
    prepare_store,
    record_kill_switch,
    store_path,
)
from isoloop.live.state_view import execution_mode
from isoloop.live.supervisor import Supervisor
from isoloop.logging import JsonlFileSink, LogSink, RunLogger, make_run_logger
from isoloop.model.modes import ExecutionMode
from isoloop.scope import ComponentState, ScopeCoordinator, SharedServices, TimedCalls

__all__ = ["LiveTradingManager"]

KILL_STATES: tuple[KillSwitchState, ...] = ("ACTIVE", "HALTED", "REDUCING")


# Container states a stepped feed waits for (paused, failed and stopped ones never catch up).
_STEPPED = frozenset(
    {
        ComponentState.CREATED,
        ComponentState.INITIALIZING,
        ComponentState.INITIALIZED,
        ComponentState.STARTED,
        ComponentState.RUNNING,
    }
)


def _kill_state(value: str) -> KillSwitchState:
    for s in KILL_STATES:
        if s == value:
            return s
    raise ConfigError(f"the state store holds an unknown kill switch state {value!r}")


class LiveTradingManager(ManagerStateMixin):
    def __init__(self, config: str | Path | Mapping[str, Any] | LiveConfig) -> None:
        self.config = load_live_config(config)
        self.state_dir = Path(self.config.state_dir)
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._sink = JsonlFileSink(self.state_dir / "manager.jsonl")
        self.log: RunLogger = make_run_logger(
            self._sink, run_id=self.config.name or "live", container_id="manager"
        )
        self._audit_path = self.state_dir / "audit.jsonl"
        self._store_path = store_path(self.config)
        self.hooks = HookDispatcher(self.log, timeout=self.config.hook_timeout)
        self.router = OrderRouter()
        self._lock = threading.RLock()
        self._live = self.config.model_copy(update={"strategies": []})
        self._containers: dict[str, RunContainer] = {}
        self._sinks: dict[str, LogSink] = {}
        self._modes: dict[str, ExecutionMode] = {}
        # Strategies an operator paused (one by one or all at once): a container
        # (re)started for one of them starts paused too.
        self._paused_names: set[str] = set()
        self._scopes: dict[str, ScopeCoordinator] = {}
        self.kill_state: KillSwitchState = "ACTIVE"
        self._strategy_kill: dict[str, KillSwitchState] = {}
        self._market: MarketData | None = None
        self.feed: ReplayFeed | None = None
        self.supervisor = Supervisor(self.config.restart, self._restart, self.log)
        self.api: ControlServer | None = None
        self._stopping = False
        self._started = False

    # -- lifecycle ------------------------------------------------------------------
    def start(self, *, api: bool | None = None, feed: bool = True) -> None:
        """Load the data, start every configured container, then the feed and the API."""
        use_api = api if api is not None else self.config.api.enabled
        check_exchange_credentials(self.config)  # every exchange key, before any container
        # Refuse a missing or weak API token before any container starts.
        token = load_token(self.config.api) if use_api else None
        f = self.config.feed
        # A replay of `feed.source`, or the exchange's candles (its warmup read here).
        self._market, feed_ = build_feed(self.config, self.log)
        prepare_store(self._store_path)
        # Operators' trips survive a restart: re-applied before any container exists.
        self._restore_kill_switches()
        self.feed = feed_
        self.log.info(
            "manager_started",
            environment=self.config.environment,
            strategies=[s.name for s in self.config.strategies],
            bars=self.feed.n_bars,
            speed=f.speed,
        )
        self._started = True
        for s in self.config.strategies:
            self.add_strategy(s)
        if token is not None:
            try:
                self.api = ControlServer(self, token, self.config.api.port)
            except OSError as exc:
                raise ConfigError(
                    f"api.port: cannot listen on 127.0.0.1:{self.config.api.port} ({exc}); "
                    "pick a free port, or 0 for any"
                ) from None
            self.api.start()
            (self.state_dir / "api.json").write_text(
                json.dumps({"url": self.api.url, "page": f"{self.api.url}/ui"}), encoding="utf-8"
            )
        if feed:
            self.feed.start()

    def step_feed(self, timeout: float = 60.0) -> int | None:
        """Lockstep: publish the feed's next bar and wait (at most `timeout` s) until every
        running container processed it; the bar's index, or None once the feed is through.

        Only for a manager started with `feed=False` (deterministic orders against a
        stepped exchange); `POST /feed/step` calls it."""
        feed = self.feed
        if feed is None or not feed.stepping:
            raise ConfigError(
                "feed/step: the feed replays on its own; start the manager with feed=False "
                "to step it"
            )
        bar = feed.step()
        if bar is None:
            return None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                # A container still starting counts: it processes the bar once it runs.
                busy = [
                    c
                    for c in self._containers.values()
                    if c.state in _STEPPED and c.last_bar < bar.bar
                ]
            if not busy:
                break
            time.sleep(0.002)
        return bar.bar

    def add_strategy(self, strategy: LiveStrategyConfig | Mapping[str, Any]) -> None:
        s = (
            strategy
            if isinstance(strategy, LiveStrategyConfig)
            else LiveStrategyConfig.model_validate(strategy)
        )
        if self.feed is None or self._market is None:
            raise ConfigError("start() the manager before adding strategies")
        with self._lock:
            if s.name in self._containers:
                raise ConfigError(f"strategy {s.name!r} is already running; pick another name")
            others = [x for x in self._live.strategies if x.name != s.name]
            self._live = self._live.model_copy(update={"strategies": [*others, s]})
            live = self._live
            # One coordinator per strategy: its shared services carry the config that
            # names this strategy; market data and the router are the same objects.
            old = self._scopes.pop(s.name, None)
            if old is not None:
                old.close()
            self._scopes[s.name] = ScopeCoordinator(
                SharedServices(market_data=self._market, live=live, router=self.router),
                stop_timeout=self.config.shutdown.module_timeout,
                roles=LIVE_ROLES,
            )
            if s.name not in self._sinks:
                # Its risk manager's kill-switch lines also become `kill_switch` hook events.
                path = self.state_dir / "logs" / f"{s.name}.jsonl"
                self._sinks[s.name] = HookLogSink(JsonlFileSink(path), self.hooks, s.name)
            self._modes[s.name] = execution_mode(live, s.name)
            self._launch(s.name, 0)

    def _launch(self, name: str, restarts: int) -> RunContainer:
        assert self.feed is not None
        kill = self._strategy_kill.get(name, self.kill_state)
        previous = self._containers.get(name)
        c = RunContainer(
            name,
            live=self._scopes[name].shared["live"],
            scopes=self._scopes[name],
            feed=self.feed,
            hooks=self.hooks,
            sink=self._sinks[name],
            restarts=restarts,
            errors=0 if previous is None or not restarts else previous.errors,
            kill_state=kill,
            on_exit=self._container_exited,
        )
        self._containers[name] = c
        if name in self._paused_names:
            c.pause()  # before its thread exists: it starts paused
        self.log.info("container_launched", strategy=name, restarts=restarts)
        c.start()
        return c

    def _container_exited(self, c: RunContainer) -> None:
        if self._stopping or self._containers.get(c.name) is not c:
            return
        self.supervisor.container_failed(c.name, c.restarts, c.permanent, c.error)

    def _restart(self, name: str, attempt: int) -> None:
        with self._lock:
            if self._stopping or name not in self._containers:
                return
            self._launch(name, attempt)

    def remove_strategy(self, name: str) -> None:
        with self._lock:
            c = self._get(name)
            self.supervisor.cancel(name)
            del self._containers[name]
        c.stop()
        with self._lock:
            scopes = self._scopes.pop(name, None)
            sink = self._sinks.pop(name, None)
        if scopes is not None:
            scopes.close()
        if sink is not None:
            sink.close()
        self.log.info("strategy_removed", strategy=name)

    def _get(self, name: str) -> RunContainer:
        try:
            return self._containers[name]
        except KeyError:
            raise ConfigError(
                f"no strategy named {name!r} (running: {', '.join(sorted(self._containers))})"
            ) from None

    def container(self, name: str) -> RunContainer:
        with self._lock:
            return self._get(name)

    def pause(self, name: str) -> None:
        with self._lock:
            c = self._get(name)
            self._paused_names.add(name)
        c.pause()
        self.log.info("strategy_paused", strategy=name)

    def resume(self, name: str) -> None:
        with self._lock:
            c = self._get(name)
            self._paused_names.discard(name)
        c.resume()
        self.log.info("strategy_resumed", strategy=name)

    def pause_all(self) -> list[str]:
        """Pause every strategy at once (global); returns their names. Bars keep queueing."""
        with self._lock:
            containers = sorted(self._containers.items())
            self._paused_names.update(n for n, _ in containers)
        for _, c in containers:
            c.pause()
        names = [n for n, _ in containers]
        self.log.info("strategies_paused", scope="global", strategies=names)
        return names

    def resume_all(self) -> list[str]:
        """Resume every strategy at once (global), each catching up on its queued bars."""
        with self._lock:
            containers = sorted(self._containers.items())
            self._paused_names.clear()
        for _, c in containers:
            c.resume()
        names = [n for n, _ in containers]
        self.log.info("strategies_resumed", scope="global", strategies=names)
        return names

    def start_strategy(self, name: str) -> None:
        """Start a stopped (or failed) strategy again: a fresh container on the same
        sub-account, resuming after its last checkpoint, with a fresh restart budget."""
        with self._lock:
            c = self._get(name)
            if c.state not in (ComponentState.STOPPED, ComponentState.FAILED):
                raise ConfigError(
                    f"strategy {name!r} is {c.state.value}; only a stopped or failed strategy "
                    "can be started (use pause/resume for a running one)"
                )
            self.supervisor.cancel(name)
            self._launch(name, 0)
        self.log.info("strategy_started", strategy=name)

    def stop_strategy(self, name: str) -> None:
        c = self.container(name)
        self.supervisor.cancel(name)
        c.stop()
        self.log.info("strategy_stopped", strategy=name)

    def register_hook(self, kind: str, hook: Hook) -> None:
        self.hooks.register(kind, hook)

    # -- kill switch ----------------------------------------------------------------
    def _restore_kill_switches(self) -> None:
        saved = load_kill_switches(self._store_path)
        with self._lock:
            glob = saved.pop(GLOBAL_SCOPE, None)
            self.kill_state = _kill_state(glob["state"]) if glob is not None else "ACTIVE"
            self._strategy_kill = {n: _kill_state(r["state"]) for n, r in saved.items()}
        if glob is not None:
            self.log.warning("kill_switch_restored", scope="global", **glob)
        for name, record in sorted(saved.items()):
            self.log.warning("kill_switch_restored", scope=name, **record)

    def trip(
        self,
        state: str,
        reason: str,
        *,
        strategy: str | None = None,
        by: str = "operator",
    ) -> None:
        """Trip (or reset with ACTIVE) the kill switch of one strategy or of all (global).

        The new state and its audit entry are committed to the state store in one
        transaction before any container sees it, so it survives a crash and is
        re-applied at the next start; only another call (an operator's) changes it.
        """
        if state not in KILL_STATES:
            raise ConfigError(
                f"kill switch state must be one of {', '.join(KILL_STATES)}; got {state!r}"
            )
        ks: KillSwitchState = state
        scope = "global" if strategy is None else strategy
        with self._lock:
            if strategy is not None:
                targets = [self._get(strategy)]
            else:
                targets = list(self._containers.values())
            entry = {
                "time": datetime.now(UTC).isoformat(),
                "scope": scope,
                "state": ks,
                "reason": reason,
                "code": kill_switch_reason(ks, "operator").value,
                "by": by,
            }
            try:
                if not self._started:
                    prepare_store(self._store_path)
                record_kill_switch(self._store_path, strategy, entry)
            except sqlite3.Error as exc:
                # A halt that cannot be persisted still halts (fail closed); a reset that
                # cannot be persisted does not happen. Either way the operator is told.
                self.log.error("kill_switch_not_persisted", error=repr(exc), **entry)
                if ks == "ACTIVE":
                    raise LiveError(
                        f"kill switch reset of {scope} NOT applied: the state store "
                        f"{self._store_path} refused it ({exc}); retry when it is writable"
                    ) from None
                self._apply_trip(strategy, ks, reason, by, targets)
                raise LiveError(
                    f"kill switch {ks} of {scope} applied to the running containers but NOT "
                    f"persisted ({exc}): it will not survive a restart; fix {self._store_path} "
                    "and trip again"
                ) from None
            self._apply_trip(strategy, ks, reason, by, targets)
            # The store holds the authoritative audit trail; this file is its readable copy.
            with self._audit_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, sort_keys=True) + "\n")
        self.log.warning("kill_switch_tripped", **entry)

    def _apply_trip(
        self,
        strategy: str | None,
        ks: KillSwitchState,
        reason: str,
        by: str,
        targets: list[RunContainer],
    ) -> None:
        scope = "global" if strategy is None else strategy
        if strategy is None:
            self.kill_state = ks
            self._strategy_kill.clear()
        else:
            self._strategy_kill[strategy] = ks
        for c in targets:
            c.trip(ks, reason, by=f"{by}:{scope}")

    def shutdown(self) -> None:
        """API, feed and supervisor first; then every container in parallel (bounded)."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            containers = list(self._containers.values())
        if self.api is not None:
            self.api.stop()
        if self.feed is not None:
            self.feed.stop()
        self.supervisor.close()
        # Each container needs at most its drain timeout plus one timeout per module.
        sd = self.config.shutdown
        budget = sd.drain_timeout + sd.module_timeout * 32
        calls = TimedCalls()
        try:
            stops = [(c.name, c.stop) for c in containers]
            outcomes = calls.run_parallel(stops, budget, label="stop of container {name!r}")
        finally:
            calls.close()
        for outcome in outcomes:
            if outcome.timed_out:
                self.log.error("container_stop_forced", strategy=outcome.name, timeout=budget)
            elif outcome.error is not None:
                self.log.error(
                    "container_stop_failed", strategy=outcome.name, error=repr(outcome.error)
                )
        self.hooks.wait_idle(self.config.hook_timeout)
        self.hooks.close()
        self.log.info("manager_stopped", summary=self.summary())
        for scopes in self._scopes.values():
            scopes.close()
        for sink in self._sinks.values():
            sink.close()
        self._sink.close()

    def __enter__(self) -> LiveTradingManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
