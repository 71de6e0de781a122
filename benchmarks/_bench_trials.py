"""Trial functions used only by benchmarks (importable by worker processes)."""

from __future__ import annotations

from typing import Any

from isoloop.data import MarketData
from isoloop.sweep import TrialOutput, TrialSpec


def noop_trial(spec: TrialSpec, data: MarketData, context: Any) -> TrialOutput:
    """Touches the shared bars once and returns at once: measures executor overhead."""
    bars = data[next(iter(data))]
    return TrialOutput(stats={"sharpe_ratio": float(bars.close[spec.trial_id % len(bars)])})


def backtesting_sma_cross() -> type:
    """backtesting.py's SmaCross (module-level so its multiprocessing pool can pickle it)."""
    return BtSmaCross


from backtesting import Strategy as _BtStrategy  # noqa: E402
from backtesting.lib import crossover as _crossover  # noqa: E402
from backtesting.test import SMA as _SMA  # noqa: E402


class BtSmaCross(_BtStrategy):
    fast = 10
    slow = 30

    def init(self) -> None:
        self.a = self.I(_SMA, self.data.Close, self.fast)
        self.b = self.I(_SMA, self.data.Close, self.slow)

    def next(self) -> None:
        if _crossover(self.a, self.b):
            self.position.close()
            self.buy()
        elif _crossover(self.b, self.a):
            self.position.close()
            self.sell()
