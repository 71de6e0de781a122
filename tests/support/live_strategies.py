"""Strategies for the live tests: SmaCross variants that fail, block or probe the kill switch."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from isoloop.engine.books import OrderView
from isoloop.engine.strategy import Strategy
from isoloop.examples.sma_cross import SmaCross


class _Extra(SmaCross):
    """SmaCross with extra test-only parameters (popped before SmaCross checks its own)."""

    extra: tuple[str, ...] = ()

    def validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        own = {k: params.pop(k) for k in self.extra if k in params}
        out = super().validate_params(params)
        out.update(own)
        return out


class RaiseEveryTenth(_Extra):
    """A model that raises on every tenth bar after `from_bar`."""

    extra = ("from_bar",)

    def on_bar(self, i: int) -> None:
        if i >= self.params.get("from_bar", 0) and i % 10 == 0:
            raise ValueError(f"model blew up at bar {i}")
        super().on_bar(i)


class BlockingModel(_Extra):
    """A model call that blocks at `block_bar` until `release` exists (at most `max_block` s)."""

    extra = ("block_bar", "release", "max_block")

    def on_bar(self, i: int) -> None:
        if i == self.params["block_bar"]:
            release = Path(self.params["release"])
            deadline = time.monotonic() + float(self.params.get("max_block", 60))
            while not release.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        super().on_bar(i)


class KillProbe(Strategy):
    """Scripted orders that show what the kill switch lets through (logged as `probe`)."""

    def init(self) -> None:
        self.resting: OrderView | None = None

    def _probe(self, i: int, action: str, order: OrderView | None) -> None:
        self.log.info(
            "probe",
            bar=i,
            action=action,
            status=None if order is None else str(order.status),
            reason=None if order is None else order.reason,
        )

    def on_bar(self, i: int) -> None:
        close = self.data.close_l[i]
        if i == 2:
            self._probe(i, "buy10", self.buy(10))
        elif i == 3:
            self.resting = self.buy(1, limit=round(close * 0.5, 5))
            self._probe(i, "rest", self.resting)
        elif i == 5:
            self._probe(i, "buy", self.buy(1))
            assert self.resting is not None
            self._probe(i, "cancel", self.cancel(self.resting))
            self._probe(i, "sell", self.sell(1))
        elif i == 6:
            self._probe(i, "buy", self.buy(1))
            self._probe(i, "sell2", self.sell(2))
            self._probe(i, "sell20", self.sell(20))


class RecoverOnce(_Extra):
    """Raises ConnectionError (recoverable) twice at `at_bar`, before touching any state."""

    extra = ("at_bar",)

    def init(self) -> None:
        super().init()
        self.failures = 0

    def on_bar(self, i: int) -> None:
        if i == self.params["at_bar"] and self.failures < 2:
            self.failures += 1
            raise ConnectionError("model server unreachable")
        super().on_bar(i)


class BarLogger(Strategy):
    """Logs every bar it is given, to show which bars were processed (and how often)."""

    def on_bar(self, i: int) -> None:
        self.log.info("seen", bar=i)


class BuyInInit(Strategy):
    """Places an order from `init()` (before its first bar) and logs what became of it."""

    def init(self) -> None:
        order = self.buy(1)
        self.log.info("init_order", status=str(order.status), reason=order.reason)

    def on_bar(self, i: int) -> None:
        return
