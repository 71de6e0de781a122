"""Operator hooks on order, fill, error and state-change events.

Containers only enqueue events (never wait). One dispatcher thread per
manager calls the hooks: plain functions on a small worker pool, coroutines
on a private event loop, each with a timeout. A hook that raises is logged;
a hook that blocks is logged when its timeout passes and abandoned, so
neither a container nor the other hooks ever wait for it.
"""

from __future__ import annotations

import asyncio
import inspect
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["HOOK_EVENTS", "HookDispatcher", "HookEvent"]

HookKind = Literal["order", "fill", "error", "state"]
HOOK_EVENTS: tuple[HookKind, ...] = ("order", "fill", "error", "state")


@dataclass(frozen=True, slots=True)
class HookEvent:
    kind: HookKind
    strategy: str
    data: dict[str, Any] = field(default_factory=dict)


Hook = Callable[[HookEvent], Any]


class HookDispatcher:
    def __init__(self, log: Any, timeout: float = 2.0, workers: int = 4) -> None:
        self._log = log
        self.timeout = timeout
        self._hooks: dict[str, list[Hook]] = {k: [] for k in HOOK_EVENTS}
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[HookEvent | None] = queue.SimpleQueue()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="isoloop-hook")
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(
            target=self._loop.run_forever, name="isoloop-hook-loop", daemon=True
        )
        self._thread = threading.Thread(target=self._run, name="isoloop-hooks", daemon=True)
        self.delivered = 0
        self.failed = 0
        self.timed_out = 0
        self._pending = 0
        self._idle = threading.Condition(self._lock)
        self._loop_thread.start()
        self._thread.start()

    def register(self, kind: str, hook: Hook) -> None:
        if kind not in self._hooks:
            raise ValueError(f"unknown hook event {kind!r}; use one of {', '.join(HOOK_EVENTS)}")
        with self._lock:
            self._hooks[kind].append(hook)

    def emit(self, kind: HookKind, strategy: str, **data: Any) -> None:
        """Enqueue; never blocks the caller."""
        with self._lock:
            if not self._hooks[kind]:
                return
            self._pending += 1
        self._queue.put(HookEvent(kind, strategy, data))

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            with self._lock:
                hooks = list(self._hooks[event.kind])
            for hook in hooks:
                self._call(hook, event)
            with self._lock:
                self._pending -= 1
                self._idle.notify_all()

    def _call(self, hook: Hook, event: HookEvent) -> None:
        name = getattr(hook, "__qualname__", repr(hook))
        fut: Future[Any] | Any
        try:
            if inspect.iscoroutinefunction(hook):
                fut = asyncio.run_coroutine_threadsafe(hook(event), self._loop)
            else:
                fut = self._pool.submit(hook, event)
            result = fut.result(timeout=self.timeout)
            if inspect.isawaitable(result):  # a plain function that returned a coroutine
                coro = result
                asyncio.run_coroutine_threadsafe(_await(coro), self._loop).result(self.timeout)
        except FutureTimeout:
            self.timed_out += 1
            self._log.error(
                "hook_timeout",
                hook=name,
                kind=event.kind,
                strategy=event.strategy,
                timeout=self.timeout,
            )
            return
        except Exception as exc:
            self.failed += 1
            self._log.error(
                "hook_failed", hook=name, kind=event.kind, strategy=event.strategy, error=repr(exc)
            )
            return
        self.delivered += 1

    def wait_idle(self, timeout: float) -> bool:
        """True once every queued event went through its hooks (tests, shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=self.timeout + 1.0)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._loop.call_soon_threadsafe(self._loop.stop)


async def _await(aw: Any) -> Any:
    return await aw
