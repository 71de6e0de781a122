"""Strategies used by tests to exercise failure paths."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from isoloop.engine.clock import SimulatedClock
from isoloop.engine.execution import ExecutionManager
from isoloop.engine.positions import PositionMonitor
from isoloop.engine.strategy import Strategy
from isoloop.errors import StrategyParamError
from isoloop.examples.sma_cross import SmaCross


class RaisesOnBar(Strategy):
    """Raises a plain exception at one bar: a bug in user code, not bad input."""

    def init(self) -> None:
        self.bar = int(self.params.get("bar", 10))

    def on_bar(self, i: int) -> None:
        if i == self.bar:
            raise RuntimeError(f"strategy bug at bar {i}")


class ClassCounter(Strategy):
    """Leaky on purpose: counts bars in a class attribute shared by every run."""

    seen: list[int] = []  # noqa: RUF012 - the leak under test

    def on_bar(self, i: int) -> None:
        self.seen.append(i)


class RebindsClassAttr(Strategy):
    """Leaky on purpose: rebinds a class-level counter."""

    runs = 0

    def init(self) -> None:
        type(self).runs += 1


class WritesSharedData(Strategy):
    """Leaky on purpose: tries to write into the shared, read-only bars."""

    def init(self) -> None:
        self.data.close[0] = 0.0


class ModuleGlobalLeak(Strategy):
    """Leaky on purpose, in a way isoloop does not catch: a module-level dict."""

    def on_bar(self, i: int) -> None:
        _GLOBAL_LEAK[i] = _GLOBAL_LEAK.get(i, 0) + 1


_GLOBAL_LEAK: dict[int, int] = {}


class MarksWhenBuilt(Strategy):
    """Writes the file named by `params['marker']` when an instance is built.

    Shows that `isoloop validate` builds no strategy (and that a backtest does).
    """

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        clock: SimulatedClock,
        execution: ExecutionManager,
        positions: PositionMonitor,
        log: Any,
    ) -> None:
        Path(str(dict(params or {})["marker"])).write_text("built\n", encoding="utf-8")
        super().__init__(params, clock=clock, execution=execution, positions=positions, log=log)

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        if set(params) != {"marker"}:
            raise StrategyParamError("strategy.params: MarksWhenBuilt takes only `marker`")
        return params


class HogsMemory(Strategy):
    """Allocates 50 MB per bar when `hog` is 1, up to 3 GB: a runaway trial (bounded so
    that, were the limit not applied, the test fails on "ok" instead of exhausting RAM)."""

    def init(self) -> None:
        self.hog = self.params.get("hog") == 1
        self.held: list[bytearray] = []

    def on_bar(self, i: int) -> None:
        if self.hog and len(self.held) < 60:
            self.held.append(bytearray(50 * 1024 * 1024))


class FailsWhileMarked(SmaCross):
    """SmaCross that raises in `init` while the file `params['marker']` exists, for the
    trials whose `fast` is in `params['fail_fast']`: a failure the user can fix and retry."""

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        extra = {k: v for k, v in params.items() if k in ("marker", "fail_fast")}
        core = {k: v for k, v in params.items() if k not in extra}
        return {**SmaCross.validate_params(core), **extra}

    def init(self) -> None:
        marker = self.params.get("marker")
        if marker and Path(marker).exists() and self.params["fast"] in self.params["fail_fast"]:
            raise RuntimeError(f"marked to fail: fast={self.params['fast']}")
        super().init()
