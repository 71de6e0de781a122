"""`isoloop.compat.backtesting.lib`'s composable strategies against backtesting.lib's."""

from __future__ import annotations

import warnings
from typing import Any

import backtesting
import backtesting.lib
import pandas as pd
import pytest
from backtesting.test import GOOG
from test_compat_parity import assert_same_run

from isoloop.compat.backtesting import Backtest
from isoloop.compat.backtesting import lib as compat_lib
from isoloop.compat.backtesting.test import SMA


def signal_strategy(base: type) -> type:
    """Enter on SMA crosses with a fifth of the margin, exit half of the longs on the way down."""

    class Signals(base):  # type: ignore[misc, valid-type]
        def init(self) -> None:
            super().init()
            close = pd.Series(self.data.Close)
            fast, slow = close.rolling(10).mean(), close.rolling(30).mean()
            up = (fast > slow) & (fast.shift() <= slow.shift())
            down = (fast < slow) & (fast.shift() >= slow.shift())
            self.set_signal(entry_size=up * 0.2 - down * 0.2, exit_portion=down * 0.5)

    return Signals


def trailing_strategy(base: type, crossover: Any) -> type:
    """Long on a close above SMA(20), a trailing stop 3 ATRs behind."""

    class Trailing(base):  # type: ignore[misc, valid-type]
        def init(self) -> None:
            super().init()
            self.set_trailing_sl(3)
            self.sma = self.I(SMA, self.data.Close, 20)

        def next(self) -> None:
            super().next()
            if not self.position and crossover(self.data.Close, self.sma):
                self.buy(size=0.5)

    return Trailing


def oracle(strategy: type, **kw: Any) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return backtesting.Backtest(GOOG, strategy, **kw).run()


@pytest.mark.parametrize("finalize", [False, True])
def test_signal_strategy_equals_backtesting_lib(finalize: bool) -> None:
    ours = Backtest(
        GOOG, signal_strategy(compat_lib.SignalStrategy), finalize_trades=finalize
    ).run()
    theirs = oracle(signal_strategy(backtesting.lib.SignalStrategy), finalize_trades=finalize)
    assert theirs["# Trades"] > 10
    assert_same_run(ours, theirs)


def test_trailing_strategy_equals_backtesting_lib() -> None:
    ours = Backtest(
        GOOG, trailing_strategy(compat_lib.TrailingStrategy, compat_lib.crossover)
    ).run()
    theirs = oracle(trailing_strategy(backtesting.lib.TrailingStrategy, backtesting.lib.crossover))
    assert theirs["# Trades"] > 10
    assert_same_run(ours, theirs)
