"""`RunContainer`: one strategy's long-lived run scope, driven by a tick loop on its own thread.

Orchestration semantics: modules (the scope's slots) are built in dependency
order and started one by one with a per-module timeout — by the scope itself,
`RunScope.initialize/start/stop` with timeouts, the same lifecycle as a
backtest's; a tick runs every `tick_interval` seconds and never overlaps the
previous one (an overrun skips ticks and logs it); recoverable errors are
retried with exponential backoff, fatal ones shut this container down
gracefully (reverse order, a timeout per module) and hand it to the
supervisor. Nothing here is shared with another container except the feed
(which only appends to this container's inbox), the order router and the hook
queue.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from isoloop.engine.risk import KillSwitchState
from isoloop.errors import (
    BlueprintError,
    ConfigError,
    DataError,
    EngineError,
    RecoverableError,
    Severity,
    StartupReconciliationError,
)
from isoloop.live.config import LiveConfig
from isoloop.live.feed import BarGate, FeedBar, Inbox, ReplayFeed
from isoloop.live.hooks import HookDispatcher
from isoloop.live.slots.engine import LiveEngine
from isoloop.logging import LogSink, RunLogger, make_run_logger
from isoloop.model.events import FillEvent, OrderEvent
from isoloop.scope import ComponentState, RunScope, ScopeCoordinator
from isoloop.scope.lifecycle import check_transition

__all__ = ["RunContainer", "is_recoverable"]

_S = ComponentState
# Failures a restart cannot fix: bad config, missing credentials, a refused reconciliation.
PERMANENT = (ConfigError, BlueprintError, DataError, StartupReconciliationError)


def is_recoverable(exc: BaseException) -> bool:
    if isinstance(exc, RecoverableError | ConnectionError | TimeoutError):
        return True
    return isinstance(exc, EngineError) and exc.severity is Severity.HIGH


class RunContainer:
    def __init__(
        self,
        name: str,
        *,
        live: LiveConfig,
        scopes: ScopeCoordinator,
        feed: ReplayFeed,
        hooks: HookDispatcher,
        sink: LogSink,
        restarts: int = 0,
        errors: int = 0,
        kill_state: KillSwitchState = "ACTIVE",
        on_exit: Callable[[RunContainer], None] | None = None,
    ) -> None:
        self.name = name
        self.live = live
        self.restarts = restarts
        self._scopes = scopes
        self._feed = feed
        self._hooks = hooks
        self._sink = sink
        self._on_exit = on_exit
        self._kill: KillSwitchState = kill_state
        self.log: RunLogger = make_run_logger(
            sink, run_id=name, container_id=f"{name}#{restarts}", component="orchestrator"
        )
        self.inbox = Inbox()
        self.state = _S.CREATED
        self.ticks = 0
        self.skipped_ticks = 0
        self.last_tick: float | None = None
        self.errors = errors  # carried over across restarts
        self.error: str | None = None
        self.permanent = False
        self.forced = False
        self.init_order: list[str] = []
        self.stop_order: list[str] = []
        self._slots: Mapping[str, ComponentState] = {}
        self.orders = 0
        self.fills = 0
        self.last_bar = -1
        self.caught_up = 0
        self._resume_bar = -1
        stale = live.feed.stale_after
        self.gate = BarGate(self.log, None if stale is None else int(stale * 1e9))
        self._pending: deque[FeedBar] = deque()
        self._scope: RunScope | None = None
        self._engine: LiveEngine | None = None
        # The scope's execution manager while it runs; its health (state, error count and
        # rate, processing time, last errors) is kept as plain data after teardown, so a
        # failed container still shows why.
        self._execution: Any = None
        self.execution_health: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._paused = False
        self._settled = threading.Event()
        self._down_lock = threading.Lock()
        self._modules_down = False
        self._thread: threading.Thread | None = None

    # -- control ------------------------------------------------------------------
    def start(self) -> None:
        # Subscribing replays what the feed already published, so a restarted
        # container misses no bar (it skips those its checkpoint already covers).
        self._feed.subscribe(self.name, self.inbox.put)
        self._thread = threading.Thread(
            target=self._main, name=f"isoloop-container-{self.name}", daemon=True
        )
        self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        """True once the container runs (or has failed); False if still initializing."""
        return self._settled.wait(timeout)

    def pause(self) -> None:
        """Stop ticking (bars keep queueing); a container still initializing starts paused."""
        if self.state in (_S.CREATED, _S.INITIALIZING, _S.INITIALIZED, _S.RUNNING):
            self._paused = True
            if self.state is _S.RUNNING:
                self._set_state(_S.PAUSED)

    def resume(self) -> None:
        if self.state in (_S.CREATED, _S.INITIALIZING, _S.INITIALIZED):
            self._paused = False
        elif self.state is _S.PAUSED:
            self._paused = False
            self._set_state(_S.RUNNING)
            self._wake.set()

    def trip(self, state: KillSwitchState, reason: str, by: str) -> None:
        self._kill = state
        engine = self._engine
        if engine is not None:
            engine.risk.trip(state, reason, by=by)

    @property
    def kill_state(self) -> str:
        engine = self._engine
        return engine.risk.state if engine is not None else self._kill

    def stop(self, drain_timeout: float | None = None) -> None:
        """Stop the loop, let the bar in flight finish (bounded), stop modules in reverse."""
        if self._modules_down and self.state in (_S.STOPPED, _S.FAILED):
            return  # already shut down (a forced thread may still be stuck; nothing to wait for)
        drain = self.live.shutdown.drain_timeout if drain_timeout is None else drain_timeout
        self._stop.set()
        self._wake.set()
        self._feed.unsubscribe(self.name)
        if self.state in (_S.RUNNING, _S.PAUSED, _S.INITIALIZING, _S.INITIALIZED):
            self._set_state(_S.STOPPING)
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(drain)
            if t.is_alive():
                self.forced = True
                self.log.error("container_forced", drain_timeout=drain)
        self._shutdown_modules()
        if self.state is not _S.FAILED:
            self._set_state(_S.STOPPED)

    # -- thread ------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            self._bootstrap()
        except BaseException as exc:
            self._fail(exc, permanent=isinstance(exc, PERMANENT))
            return
        finally:
            self._settled.set()
        try:
            self._loop()
        except BaseException as exc:
            if not self._stop.is_set() or not self.forced:
                self._fail(exc, permanent=False)

    def _bootstrap(self) -> None:
        self._set_state(_S.INITIALIZING)
        live = self.live
        s = live.strategy(self.name)
        scope = self._scopes.create(
            live.blueprint_for(self.name),
            config=live.run_config(self.name),
            run_id=self.name,
            seed=s.seed,
            log_sink=self._sink,
        )
        self._scope = scope
        self._slots = scope.slot_states
        # Builds every module in dependency order (credentials, store, venue, ...), then
        # starts each in that order; each step bounded, a hung one named by its slot.
        timeout = live.shutdown.init_timeout
        scope.initialize(timeout=timeout)
        self.init_order = list(scope.init_order)
        engine = scope.get("engine")
        assert isinstance(engine, LiveEngine)
        # The manager's kill switch (a durable operator trip included) reaches the risk
        # manager before any module starts: not even the strategy's init can slip an order.
        self._engine = engine
        if "execution" in scope.slot_states:
            self._execution = scope.get("execution")
        kill = self._kill
        if kill != "ACTIVE":
            engine.risk.trip(kill, "kill switch carried over from the manager", by="manager")
        scope.start(timeout=timeout)
        for slot in self.init_order:
            self.log.info("module_initialized", module=slot)
        self.last_bar = self._resume_bar = engine.last_bar
        self.orders = engine.venue.orders_total
        self.fills = engine.venue.fills
        self.gate.last_ns = engine.last_ns
        name, hooks = self.name, self._hooks
        engine.bus.subscribe(
            OrderEvent,
            lambda e: hooks.emit(
                "order",
                name,
                order_id=e.order_id,
                status=str(e.status),
                bar=e.bar,
                reason=e.reason,
            ),
        )
        engine.bus.subscribe(FillEvent, lambda e: hooks.emit("fill", name, **e.fill.as_dict()))
        self._set_state(_S.INITIALIZED)
        if self._stop.is_set():
            return
        self._set_state(_S.PAUSED if self._paused else _S.RUNNING)

    def _loop(self) -> None:
        interval = self.live.tick_interval
        next_t = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now < next_t:
                self._wake.wait(next_t - now)
                self._wake.clear()
                continue
            behind = int((now - next_t) // interval)
            if behind:
                # The last tick overran: skip the ticks it covered instead of stacking them.
                self.skipped_ticks += behind
                self.log.warning("tick_skipped", skipped=behind, interval=interval)
            next_t += (behind + 1) * interval
            if self._paused:
                continue
            self._tick()

    def _tick(self) -> None:
        engine = self._engine
        assert engine is not None
        self.ticks += 1
        self.last_tick = time.time()
        self._pending.extend(self.inbox.drain())
        feed = self._feed
        while self._pending and not self._stop.is_set() and not self._paused:
            fb = self._pending[0]
            if fb.bar <= self._resume_bar:
                # Backfill of what the checkpoint already covers (after a restart): silent.
                self._pending.popleft()
                self.caught_up += 1
                continue
            now_ns = feed.now_ns if self.live.simulated_clock else time.time_ns()
            if not self.gate.admit(fb, now_ns):
                self._pending.popleft()
                continue
            if not self._step_with_retry(engine, fb):
                return
            self._pending.popleft()
            self.last_bar = engine.last_bar
            self.orders = engine.venue.orders_total
            self.fills = engine.venue.fills

    def _step_with_retry(self, engine: LiveEngine, fb: FeedBar) -> bool:
        attempt = 0
        while True:
            mark = engine.state_mark()
            try:
                engine.step(fb)
            except Exception as exc:
                self.errors += 1
                # Retrying is only safe when the failed step changed nothing in memory.
                recoverable = is_recoverable(exc) and engine.state_mark() == mark
                final = not recoverable or attempt >= self.live.max_tick_retries
                self.log.error(
                    "tick_error",
                    bar=fb.bar,
                    error=repr(exc),
                    recoverable=recoverable,
                    attempt=attempt,
                    giving_up=final,
                )
                self._hooks.emit(
                    "error", self.name, error=repr(exc), bar=fb.bar, recoverable=recoverable
                )
                if final:
                    raise
                delay = self.live.retry_backoff * (2**attempt)
                attempt += 1
                if self._stop.wait(delay):
                    return False
            else:
                if attempt:
                    self.log.info("tick_recovered", bar=fb.bar, attempts=attempt)
                return True

    # -- failure and shutdown -----------------------------------------------------------
    def _fail(self, exc: BaseException, *, permanent: bool) -> None:
        self.error = f"{type(exc).__name__}: {exc}"
        self.permanent = permanent
        self.log.error("container_failed", error=self.error, permanent=permanent)
        self._hooks.emit("error", self.name, error=self.error, fatal=True)
        self._feed.unsubscribe(self.name)
        self._shutdown_modules()
        self._set_state(_S.FAILED)
        self._settled.set()
        if self._on_exit is not None:
            self._on_exit(self)

    def _shutdown_modules(self) -> None:
        with self._down_lock:
            if self._modules_down:
                return
            self._modules_down = True
        scope = self._scope
        if scope is None:
            return
        engine = self._engine
        if engine is not None:
            self.orders, self.fills = engine.venue.orders_total, engine.venue.fills
        # Reverse init order, each stop bounded by `module_timeout`; every failure is in
        # the outcomes below (and the scope's own log), so the group is not re-raised.
        with contextlib.suppress(ExceptionGroup):
            scope.stop()
        timeout = self.live.shutdown.module_timeout
        for outcome in scope.stop_outcomes:
            if outcome.timed_out:
                self.log.error("module_stop_forced", module=outcome.name, timeout=timeout)
            elif outcome.error is not None:
                self.log.error("module_stop_failed", module=outcome.name, error=repr(outcome.error))
            else:
                self.log.info("module_stopped", module=outcome.name)
        self.stop_order = [outcome.name for outcome in scope.stop_outcomes]
        self._snapshot_execution()
        self._execution = None
        self._engine = None
        self._scope = None
        scope.dispose()

    def _set_state(self, state: ComponentState) -> None:
        old = self.state
        if old is state or not check_transition(old, state):
            # e.g. a bootstrap that finishes after stop() began: stopping wins.
            return
        self.state = state
        self.log.info("container_state", old=old.value, new=state.value)
        self._hooks.emit("state", self.name, old=old.value, new=state.value)

    # -- state --------------------------------------------------------------------------
    @property
    def modules(self) -> dict[str, str]:
        """Each module's lifecycle state (`initialized`, `started`, `stopped`, `forced`, ...)."""
        return {slot: state.value for slot, state in dict(self._slots).items()}

    def _snapshot_execution(self) -> dict[str, Any] | None:
        execution = self._execution
        report = getattr(execution, "health", None)
        if report is not None:
            with contextlib.suppress(Exception):  # a component mid-teardown keeps the last one
                snap = report().detail.get("execution")
                if isinstance(snap, dict):
                    self.execution_health = snap
        return self.execution_health

    def get_state(self) -> dict[str, Any]:
        scope = self._scope
        health: dict[str, Any] = {}
        if scope is not None and self.state in (_S.RUNNING, _S.PAUSED):
            try:
                report = scope.health()
                health = {k: getattr(v, "status", str(v)) for k, v in report.detail.items()}
            except Exception as exc:  # a component mid-teardown
                health = {"error": repr(exc)}
        else:
            health = self.modules
        last = (
            None
            if self.last_tick is None
            else datetime.fromtimestamp(self.last_tick, UTC).isoformat()
        )
        return {
            "state": self.state.value,
            "ticks": self.ticks,
            "skipped_ticks": self.skipped_ticks,
            "last_tick": last,
            "errors": self.errors,
            "restarts": self.restarts,
            "orders": self.orders,
            "fills": self.fills,
            "last_bar": self.last_bar,
            "kill_switch": self.kill_state,
            "health": health,
            "execution": self._snapshot_execution(),
            "error": self.error,
            "forced": self.forced,
            "feed": {
                "queued": len(self.inbox) + len(self._pending),
                "duplicates": self.gate.duplicates,
                "out_of_order": self.gate.out_of_order,
                "stale": self.gate.stale,
                "caught_up": self.caught_up,
            },
        }
