"""Restarts failed containers per policy: at most `max_restarts`, with exponential backoff.

Restarts are scheduled, not slept: one container's backoff never delays
another's restart, and the supervisor never runs strategy code itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from isoloop.live.config import RestartPolicy

__all__ = ["Supervisor"]


class Supervisor:
    def __init__(
        self, policy: RestartPolicy, restart: Callable[[str, int], None], log: Any
    ) -> None:
        self.policy = policy
        self._restart = restart
        self._log = log
        self._due: dict[str, tuple[float, int]] = {}
        self.gave_up: set[str] = set()
        self._cond = threading.Condition()
        self._closed = False
        self._busy = 0
        self._thread = threading.Thread(target=self._run, name="isoloop-supervisor", daemon=True)
        self._thread.start()

    def backoff(self, restarts: int) -> float:
        return float(min(self.policy.backoff * (2**restarts), self.policy.max_backoff))

    def container_failed(
        self, name: str, restarts: int, permanent: bool, error: str | None
    ) -> None:
        with self._cond:
            if self._closed:
                return
            if permanent:
                self.gave_up.add(name)
                self._log.error(
                    "restart_refused", strategy=name, reason="not restartable", error=error
                )
                return
            if restarts >= self.policy.max_restarts:
                self.gave_up.add(name)
                self._log.error(
                    "restart_gave_up",
                    strategy=name,
                    restarts=restarts,
                    error=error,
                    max_restarts=self.policy.max_restarts,
                )
                return
            delay = self.backoff(restarts)
            self._due[name] = (time.monotonic() + delay, restarts + 1)
            self._log.warning(
                "restart_scheduled",
                strategy=name,
                attempt=restarts + 1,
                in_seconds=delay,
                error=error,
            )
            self._cond.notify_all()

    def cancel(self, name: str) -> None:
        with self._cond:
            self._due.pop(name, None)
            self.gave_up.discard(name)

    def pending(self, name: str) -> bool:
        with self._cond:
            return name in self._due or self._busy > 0

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                now = time.monotonic()
                ready = sorted((n, a) for n, (t, a) in self._due.items() if t <= now)
                if not ready:
                    wait = min((t for t, _ in self._due.values()), default=now + 3600) - now
                    self._cond.wait(max(wait, 0.0))
                    continue
                for n, _ in ready:
                    del self._due[n]
                self._busy += 1
            try:
                for name, attempt in ready:
                    self._log.info("restarting", strategy=name, attempt=attempt)
                    try:
                        self._restart(name, attempt)
                    except Exception as exc:  # a restart that cannot even begin
                        self._log.error("restart_failed", strategy=name, error=repr(exc))
            finally:
                with self._cond:
                    self._busy -= 1

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._due.clear()
            self._cond.notify_all()
        self._thread.join(timeout=5.0)
