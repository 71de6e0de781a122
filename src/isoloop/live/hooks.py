"""Operator hooks on order, fill, error, state-change, kill-switch and risk events.

`kill_switch`: every change of a container's kill switch (an operator's trip,
a risk limit's, one restored at start), with its reason code
(`isoloop.engine.risk.KillSwitchReason`), the free-text note, who and the bar.
`risk`: every order the pre-trade checks denied, with the check's code
(`kill_switch`, `max_position`, `rate_limit`, ...) and the full reason.

Containers only enqueue events (never wait). Each registered hook has its own
worker thread and queue, so a hook that blocks delays only its own later
calls, never a container or another hook. Coroutine hooks run on a private
event loop. A hook that raises is logged; a call still running after
`timeout` seconds is logged once and then waited for (the kernel's bounded
call, in its never-abandon mode: a hook's later events keep their order).
Delivery is at least once: events of a bar replayed after a crash are
delivered again.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from isoloop.logging import LogSink
from isoloop.scope import TimedCalls

__all__ = ["HOOK_EVENTS", "Hook", "HookDispatcher", "HookEvent", "HookLogSink"]

HookKind = Literal["order", "fill", "error", "state", "kill_switch", "risk"]
HOOK_EVENTS: tuple[HookKind, ...] = ("order", "fill", "error", "state", "kill_switch", "risk")
# The risk manager's log line for a kill-switch change (matched before parsing the line).
_KILL_MARK = '"event": "kill_switch"'


@dataclass(frozen=True, slots=True)
class HookEvent:
    kind: HookKind
    strategy: str
    data: dict[str, Any] = field(default_factory=dict)


Hook = Callable[[HookEvent], Any]


class _HookWorker:
    def __init__(self, dispatcher: HookDispatcher, hook: Hook, n: int) -> None:
        self.hook = hook
        self.name = getattr(hook, "__qualname__", repr(hook))
        self.queue: queue.SimpleQueue[HookEvent | None] = queue.SimpleQueue()
        self._d = dispatcher
        self.thread = threading.Thread(target=self._run, name=f"isoloop-hook-{n}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            event = self.queue.get()
            if event is None:
                return
            self._d.call(self, event)


class HookDispatcher:
    def __init__(self, log: Any, timeout: float = 2.0) -> None:
        self._log = log
        self.timeout = timeout
        self._workers: dict[str, list[_HookWorker]] = {k: [] for k in HOOK_EVENTS}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._ids = itertools.count()
        self._calls = TimedCalls()
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(
            target=self._loop.run_forever, name="isoloop-hook-loop", daemon=True
        )
        self._loop_thread.start()
        self.delivered = 0
        self.failed = 0
        self.timed_out = 0
        # The last `error` event of each strategy, for get_state (kept even without hooks).
        self.last_errors: dict[str, dict[str, Any]] = {}

    def register(self, kind: str, hook: Hook) -> None:
        if kind not in self._workers:
            raise ValueError(f"unknown hook event {kind!r}; use one of {', '.join(HOOK_EVENTS)}")
        with self._lock:
            self._workers[kind].append(_HookWorker(self, hook, next(self._ids)))

    def emit(self, kind: HookKind, strategy: str, **data: Any) -> None:
        """Enqueue for every hook of `kind`; never blocks the caller."""
        with self._lock:
            if kind == "error":
                self.last_errors[strategy] = {"time": datetime.now(UTC).isoformat(), **data}
            workers = list(self._workers[kind])
            self._pending += len(workers)
        if workers:
            event = HookEvent(kind, strategy, data)
            for w in workers:
                w.queue.put(event)
        if kind == "order" and data.get("status") == "DENIED":
            # A denial is the risk manager's verdict: also a `risk` event, coded by its check.
            reason = str(data.get("reason") or "")
            self.emit(
                "risk",
                strategy,
                code=reason.split(":", 1)[0] or "denied",
                reason=reason,
                order_id=data.get("order_id"),
                bar=data.get("bar"),
            )

    def call(self, worker: _HookWorker, event: HookEvent) -> None:
        outcome = self._calls.run(
            ((worker.name, lambda: self._invoke(worker.hook, event)),),
            self.timeout,
            on_late=lambda _: self._late(worker, event),
        )[0]
        with self._lock:
            if outcome.error is None:
                self.delivered += 1
            else:
                self.failed += 1
            self._pending -= 1
            self._idle.notify_all()
        if outcome.error is not None:
            self._log.error(
                "hook_failed",
                hook=worker.name,
                kind=event.kind,
                strategy=event.strategy,
                error=repr(outcome.error),
            )

    def _invoke(self, hook: Hook, event: HookEvent) -> None:
        if inspect.iscoroutinefunction(hook):
            asyncio.run_coroutine_threadsafe(hook(event), self._loop).result()
        else:
            result = hook(event)
            if inspect.isawaitable(result):
                asyncio.run_coroutine_threadsafe(_await(result), self._loop).result()

    def _late(self, worker: _HookWorker, event: HookEvent) -> None:
        with self._lock:
            self.timed_out += 1
        self._log.error(
            "hook_timeout",
            hook=worker.name,
            kind=event.kind,
            strategy=event.strategy,
            timeout=self.timeout,
        )

    def wait_idle(self, timeout: float) -> bool:
        """True once every queued event went through its hooks (tests, shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        with self._lock:
            workers = [w for ws in self._workers.values() for w in ws]
        for w in workers:
            w.queue.put(None)
        self._calls.close()
        self._loop.call_soon_threadsafe(self._loop.stop)


class HookLogSink(LogSink):
    """A container's log sink that also turns its risk manager's `kill_switch` lines into
    `kill_switch` hook events, whoever tripped it (operator, risk limit, restore)."""

    def __init__(self, inner: LogSink, hooks: HookDispatcher, strategy: str) -> None:
        self.inner = inner
        self._hooks = hooks
        self._strategy = strategy

    def msg(self, line: str) -> None:
        self.inner.msg(line)
        if _KILL_MARK not in line:
            return
        try:
            rec = json.loads(line)
        except ValueError:
            return
        if rec.get("event") != "kill_switch":
            return
        data = {k: rec.get(k) for k in ("from", "to", "reason", "note", "by", "bar")}
        self._hooks.emit("kill_switch", self._strategy, error_code=rec.get("code"), **data)

    def close(self) -> None:
        self.inner.close()


async def _await(aw: Any) -> Any:
    return await aw
