"""The backtest driver (`engine` slot): the bar loop and the run's output.

The per-bar path is two list truthiness checks and the strategy's `on_bar`;
venues are only asked to match when they hold working orders, and the equity
curve is computed after the loop from the books' change log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from isoloop.engine.bar_loop import out_of_money, run_bars
from isoloop.engine.bus import EventBus
from isoloop.engine.clock import SimulatedClock
from isoloop.engine.execution import ExecutionManager
from isoloop.engine.health import Health, health
from isoloop.engine.indicators import NO_INDICATORS, Indicator, indicator_warmup, seal_indicators
from isoloop.engine.positions import PositionMonitor, PositionUpdateHandler
from isoloop.engine.strategy import Strategy
from isoloop.engine.trades import ClosedTrade, closed_trades_frame
from isoloop.model.events import BarEvent, ErrorEvent, locate_failure
from isoloop.model.orders import Order

__all__ = ["BacktestEngine", "RunOutput"]


@dataclass(frozen=True, eq=False)
class RunOutput:
    index: np.ndarray
    equity: np.ndarray
    # The ledger's closed-trade records; `trades` is their table, built on first use
    # (a sweep trial reads the stats' columns off the records and never needs it).
    closed_trades: tuple[ClosedTrade, ...]
    # Every order of the run in submission order, as the execution manager left them
    # (the run is over: nothing changes them). `orders` are their records, built on
    # first use: a sweep trial hashes the orders themselves and never needs them.
    order_book: tuple[Order, ...]
    commissions: float
    # The strategy's warm-up (its own and its indicators'): pass as
    # `compute_stats(..., warmup_bars=...)`.
    warmup_bars: int = 0
    # Declared with `self.I(...)`, by name; the strategy's own read-only arrays (no copy).
    indicators: Mapping[str, Indicator] = field(default_factory=lambda: NO_INDICATORS)
    # The books' split of `equity`: cash, and each symbol's position value per bar.
    cash: np.ndarray | None = None
    values: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def equity_final(self) -> float:
        return float(self.equity[-1])

    @cached_property
    def orders(self) -> list[dict[str, Any]]:
        """The orders' canonical records (`Order.to_record`), in submission order."""
        return [o.to_record() for o in self.order_book]

    @cached_property
    def trades(self) -> pd.DataFrame:
        """The engine's trades table (`isoloop.engine.trades.TRADE_COLUMNS`)."""
        return closed_trades_frame(self.closed_trades, self.index)


class BacktestEngine:
    def __init__(
        self,
        *,
        clock: SimulatedClock,
        strategy: Strategy,
        execution: ExecutionManager,
        positions: PositionMonitor,
        position_updates: PositionUpdateHandler,
        log: Any,
        bus: EventBus | None = None,
        finalize_trades: bool = True,
        config: object = None,
    ) -> None:
        self._clock = clock
        self._strategy = strategy
        self._execution = execution
        self._positions = positions
        self._updates = position_updates
        self._log = log
        self._bus = bus
        self._finalize = finalize_trades
        # `observability.bar_events` of the run config (a run value: any blueprint gets it).
        self._bar_events = bool(getattr(getattr(config, "observability", None), "bar_events", 0))
        self.state = "created"
        self.output: RunOutput | None = None

    def run(self) -> RunOutput:
        clock = self._clock
        strategy = self._strategy
        execution = self._execution
        self.state = "running"
        n = clock.n_bars
        self._log.info("backtest_started", bars=n, symbol=clock.market.primary)
        try:
            strategy.init()
            indicators = seal_indicators(strategy)
            warmup = int(strategy.warmup)
            if indicators:
                warmup = max(warmup, indicator_warmup(indicators))
                # Written back so every reader of `strategy.warmup` (the stats, the
                # live runner) agrees, even if `init` lowered it after `self.I(...)`.
                strategy.warmup = warmup
                if warmup >= n - 1:
                    self._log.warning("indicators_never_ready", warmup=warmup, bars=n)
            start = 1 + warmup
            bust = self._loop(start, n)
            if bust is not None:
                # Like backtesting.py: positions closed at the bar's close, cash written
                # off, the run stops there and equity stays at zero.
                execution.liquidate_all(bust)
                self._log.error("out_of_money", bar=bust, equity=0.0)
                execution.finish("out of money")
            elif n:
                last = n - 1
                clock.bar = last
                if self._finalize and start < n:
                    execution.close_all()
                    execution.process_bar(last, final=True)
                execution.finish()
        except Exception as exc:
            self.state = "failed"
            # Which of the run's components raised it, read off the traceback's frames.
            own = (
                ("strategy", strategy),
                ("execution", execution),
                ("positions", self._positions),
                ("position_updates", self._updates),
                ("clock", clock),
                ("engine", self),
            )
            where, operation = locate_failure(exc, own, default="engine")
            event = ErrorEvent.of(exc, component=where, operation=operation)
            self._log.error("backtest_failed", error=str(exc), bar=clock.bar, **event.fields())
            raise
        equity, cash, values = self._positions.curves()
        out = RunOutput(
            index=clock.market.index,
            equity=equity,
            closed_trades=tuple(self._updates.trades.closed),
            order_book=tuple(execution.orders),
            commissions=float(self._updates.fees),
            warmup_bars=int(strategy.warmup),
            indicators=seal_indicators(strategy),
            cash=cash,
            values=values,
        )
        self.state = "finished"
        self.output = out
        self._log.info(
            "backtest_finished",
            equity_final=out.equity_final,
            trades=len(out.closed_trades),
            orders=len(out.order_book),
            commissions=out.commissions,
        )
        return out

    def _loop(self, start: int, n: int) -> int | None:
        """Run bars `start..n-1`; return the bar where the account ran out of money, if any."""
        clock = self._clock
        on_bar = self._strategy.on_bar
        process = self._execution.process_bar
        lists = self._execution.work_lists
        books = self._positions
        bus = self._bus
        publish = bus.publish if bus is not None and bus.wants(BarEvent) else None
        times = clock.market.time_ns
        debug = self._log.debug if self._bar_events else None
        if publish is None and debug is None and len(lists) == 2:
            # The common case, kept minimal (and compiled): most bars have no working order.
            blocks, working = lists
            return run_bars(clock, books, on_bar, process, blocks, working, start, n)
        for i in range(start, n):
            clock.bar = i
            for w in lists:
                if w:
                    process(i)
                    break
            if out_of_money(books, i):
                return i
            if debug is not None:
                queued = sum(len(w) for w in lists)
                debug("bar", bar=i, time_ns=int(times[i]), equity=books.equity(i), working=queued)
            if publish is not None:
                publish(BarEvent(i, times[i]))
            on_bar(i)
        return None

    def health(self) -> Health:
        return health(
            "unhealthy" if self.state == "failed" else "healthy",
            state=self.state,
            bar=self._clock.bar,
        )
