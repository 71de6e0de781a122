"""The shared market data feed, fanned out to one inbox per container.

The feed never waits for a container: it appends to each inbox and moves on,
so a container blocked in a model call cannot stall the feed or its peers.
Each container's `BarGate` drops duplicate, out-of-order and stale bars
(logged, never processed twice).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from isoloop.data.bars import MarketData

__all__ = ["BarGate", "FeedBar", "Inbox", "ReplayFeed"]


class FeedBar(NamedTuple):
    bar: int  # index into the replay data (the containers' clock index)
    time_ns: int


class Inbox:
    """A container's unbounded, thread-safe queue of feed bars."""

    def __init__(self) -> None:
        self._q: deque[FeedBar] = deque()
        self._lock = threading.Lock()
        self.received = 0

    def put(self, bar: FeedBar) -> None:
        with self._lock:
            self._q.append(bar)
            self.received += 1

    def drain(self) -> list[FeedBar]:
        with self._lock:
            out = list(self._q)
            self._q.clear()
        return out

    def __len__(self) -> int:
        return len(self._q)


class BarGate:
    """Admits each bar time once, in order; logs and counts what it drops."""

    def __init__(self, log: Any, stale_after_ns: int | None = None, last_ns: int | None = None):
        self._log = log
        self._stale = stale_after_ns
        self.last_ns = last_ns
        self.duplicates = 0
        self.out_of_order = 0
        self.stale = 0

    def admit(self, bar: FeedBar, now_ns: int | None = None) -> bool:
        last = self.last_ns
        if last is not None and bar.time_ns == last:
            self.duplicates += 1
            self._log.warning("bar_duplicate", bar=bar.bar, time_ns=bar.time_ns)
            return False
        if last is not None and bar.time_ns < last:
            self.out_of_order += 1
            self._log.warning("bar_out_of_order", bar=bar.bar, time_ns=bar.time_ns, last_ns=last)
            return False
        if self._stale is not None and now_ns is not None and now_ns - bar.time_ns > self._stale:
            self.stale += 1
            # A stale bar still moves the gate: a later, older copy is then out of order.
            self.last_ns = bar.time_ns
            self._log.warning(
                "bar_stale", bar=bar.bar, time_ns=bar.time_ns, behind_s=(now_ns - bar.time_ns) / 1e9
            )
            return False
        self.last_ns = bar.time_ns
        return True


class ReplayFeed:
    """Replays the primary symbol's bars at `speed` × the data's own spacing.

    `now_ns` is the data time of the last published bar (what "stale" is measured
    against in replay).
    """

    def __init__(
        self,
        market_data: MarketData,
        *,
        symbol: str | None = None,
        speed: float = 1.0,
        max_bars: int | None = None,
    ) -> None:
        bars = market_data[symbol] if symbol else market_data.primary
        times = bars.index.view("int64")
        n = len(times) if max_bars is None else min(max_bars, len(times))
        self.times: list[int] = np.asarray(times[:n]).tolist()
        self.speed = speed
        self._subscribers: dict[str, Callable[[FeedBar], None]] = {}
        self._history: list[FeedBar] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.published = 0
        self.now_ns: int | None = None
        self.done = threading.Event()

    @property
    def n_bars(self) -> int:
        return len(self.times)

    def subscribe(self, name: str, deliver: Callable[[FeedBar], None]) -> None:
        """Register `deliver`, first handing it every bar already published (a backfill)."""
        with self._lock:
            for bar in self._history:
                deliver(bar)
            self._subscribers[name] = deliver

    def unsubscribe(self, name: str) -> None:
        with self._lock:
            self._subscribers.pop(name, None)

    def publish(self, bar: FeedBar) -> None:
        """Deliver one bar to every subscriber (also how tests inject bad bars).

        Delivery only appends to inboxes, so holding the lock across it is cheap
        and makes backfill-then-subscribe atomic."""
        with self._lock:
            self.now_ns = bar.time_ns if self.now_ns is None else max(self.now_ns, bar.time_ns)
            self._history.append(bar)
            for deliver in self._subscribers.values():
                deliver(bar)
            self.published += 1

    @property
    def stepping(self) -> bool:
        """True when the feed moves only by `step()` (its replay thread never started)."""
        return self._thread is None

    def step(self) -> FeedBar | None:
        """Publish the next bar now (a manually stepped replay: a test sets an exchange's
        bar, releases the same bar to the containers, and waits for them); None at the end.

        Refused while the replay thread runs: two publishers would race."""
        if self._thread is not None:
            raise RuntimeError("the feed replays on its own; start the manager with feed=False")
        i = self.published
        if i >= len(self.times):
            self.done.set()
            return None
        bar = FeedBar(i, self.times[i])
        self.publish(bar)
        if i + 1 == len(self.times):
            self.done.set()
        return bar

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="isoloop-feed", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        times = self.times
        for i, t in enumerate(times):
            if self._stop.is_set():
                return
            self.publish(FeedBar(i, t))
            if i + 1 < len(times):
                gap = (times[i + 1] - t) / 1e9 / self.speed
                if gap > 0 and self._stop.wait(min(gap, 60.0)):
                    return
        self.done.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
