"""Operator hooks on order, fill, error and state-change events.

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
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from isoloop.scope import TimedCalls

__all__ = ["HOOK_EVENTS", "Hook", "HookDispatcher", "HookEvent"]

HookKind = Literal["order", "fill", "error", "state"]
HOOK_EVENTS: tuple[HookKind, ...] = ("order", "fill", "error", "state")


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

    def register(self, kind: str, hook: Hook) -> None:
        if kind not in self._workers:
            raise ValueError(f"unknown hook event {kind!r}; use one of {', '.join(HOOK_EVENTS)}")
        with self._lock:
            self._workers[kind].append(_HookWorker(self, hook, next(self._ids)))

    def emit(self, kind: HookKind, strategy: str, **data: Any) -> None:
        """Enqueue for every hook of `kind`; never blocks the caller."""
        with self._lock:
            workers = list(self._workers[kind])
            self._pending += len(workers)
        if workers:
            event = HookEvent(kind, strategy, data)
            for w in workers:
                w.queue.put(event)

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


async def _await(aw: Any) -> Any:
    return await aw
