"""The scenarios written once against backtesting.py's Strategy API.

`build(Strategy, crossover)` defines every scenario strategy over the base class
and `crossover` it is given: with backtesting.py's it is the oracle, with
`isoloop.compat.backtesting`'s the very same code is the port a user makes by
changing an import. The strategies are this project's own re-creations of what
backtesting.py's `_test.py` checks (read for semantics only; nothing copied).

Bar numbering: backtesting.py calls `next()` on bar `i` with `len(self.data) == i + 1`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd


def sma(values: Any, n: int) -> pd.Series:
    """pandas' rolling mean: the same floats in both engines."""
    return pd.Series(np.asarray(values, dtype="float64")).rolling(n).mean()


def true_range_atr(high: Any, low: Any, close: Any, periods: int) -> np.ndarray:
    """Mean true range over `periods` bars, back-filled over its warm-up."""
    hi = np.asarray(high, dtype="float64")
    lo = np.asarray(low, dtype="float64")
    prev = pd.Series(np.asarray(close, dtype="float64")).shift(1).to_numpy()
    tr = np.max([hi - lo, np.abs(prev - hi), np.abs(prev - lo)], axis=0)
    return np.asarray(pd.Series(tr).rolling(periods).mean().bfill().to_numpy())


def build(base: type, crossover: Callable[..., bool]) -> SimpleNamespace:
    """Every scenario strategy as a subclass of `base` (backtesting.py's Strategy API)."""
    Strategy: Any = base

    class SmaCross(Strategy):
        fast = 10
        slow = 30

        def init(self) -> None:
            self.sma1 = self.I(sma, self.data.Close, self.fast)
            self.sma2 = self.I(sma, self.data.Close, self.slow)

        def next(self) -> None:
            if crossover(self.sma1, self.sma2):
                self.position.close()
                self.buy()
            elif crossover(self.sma2, self.sma1):
                self.position.close()
                self.sell()

    class BuyOnceCloseNext(Strategy):
        """One trade: bought on the first bar, closed on every bar it is open."""

        def init(self) -> None:
            self.done = False

        def next(self) -> None:
            if not self.done:
                self.buy()
                self.done = True
            if self.position:
                self.position.close()

    class HoldOne(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            if not self.position:
                self.buy()

    class Idle(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            pass

    class ShortBracketsHalfCloses(Strategy):
        """Short stop-limit brackets on SMA crosses, cancelled and re-placed; then halved."""

        def init(self) -> None:
            self.ma = self.I(sma, self.data.Close, 10)

        def next(self) -> None:
            if crossover(self.ma, self.data.Close):
                for order in self.orders:
                    if not order.is_contingent:
                        order.cancel()
                price = self.data.Close[-1]
                self.sell(size=0.21, limit=price, stop=price, sl=1.05 * price, tp=0.9 * price)
            elif self.position:
                assert self.position.is_short
                trade = self.trades[0]
                if self.data.index[-1] - self.data.index[trade.entry_bar] > pd.Timedelta("3D"):
                    assert trade.sl and trade.tp and trade.exit_bar is None
                    self.position.close(0.5)
                    self.position.close(0.5)
                    self.position.close(0.5)
                    self.position.close()
                    self.position.close()

    class BuyTooMuch(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            self.buy(size=10_000)

    class InAndOut(Strategy):
        """Buy with all equity, close on the next bar, then stop trading."""

        def init(self) -> None:
            self.finished = False

        def next(self) -> None:
            if self.finished:
                return
            if not self.position:
                self.buy()
            else:
                self.position.close()
                self.finished = True

    class HundredWithTakeProfit(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            if len(self.data) == 2:
                self.buy(size=100, tp=3)

    class EntryOnDate(Strategy):
        """One entry on `day` with the given stop/sl/tp (None: not set)."""

        day = "2012-10-17"
        stop: float | None = None
        sl: float | None = None
        tp: float | None = None

        def init(self) -> None:
            pass

        def next(self) -> None:
            if self.data.index[-1] == pd.Timestamp(self.day):
                self.buy(stop=self.stop, sl=self.sl, tp=self.tp)

    class TenUnitsHalfOut(Strategy):
        def init(self) -> None:
            self.sma1 = self.I(sma, self.data.Close, 10)
            self.sma2 = self.I(sma, self.data.Close, 20)

        def next(self) -> None:
            if not self.position and crossover(self.sma1, self.sma2):
                self.buy(size=10)
            if self.position and crossover(self.sma2, self.sma1):
                self.position.close(portion=0.5)

    class CloseOnLastBar(Strategy):
        last = 20

        def init(self) -> None:
            pass

        def next(self) -> None:
            if not self.position:
                self.buy()
            elif len(self.data) == self.last:
                self.position.close()

    class TakeProfitOnePercent(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            self.buy(tp=self.data.Close[-1] * 1.01)

    class Script(Strategy):
        """Per-bar actions: `self.steps[bar]` is a callable run on that bar."""

        steps: dict[int, Callable[[Any], None]] = {}  # noqa: RUF012

        def init(self) -> None:
            pass

        def next(self) -> None:
            step = self.steps.get(len(self.data) - 1)
            if step is not None:
                step(self)

    def script(name: str, steps: dict[int, Callable[[Any], None]]) -> type:
        return type(name, (Script,), {"steps": steps})

    def _position_long_then_flat(s: Any) -> None:
        assert s.position and s.position.is_long and s.position.size > 0
        s.position.close()

    def _flat(s: Any) -> None:
        assert not s.position and not s.position.size

    def _one_trade_then_sell(n: float) -> Callable[[Any], None]:
        def step(s: Any) -> None:
            assert len(s.trades) == 1
            s.sell(size=n)

        return step

    def _two_trades(s: Any) -> None:
        assert len(s.trades) == 2

    def _one_short_of_three(s: Any) -> None:
        assert len(s.trades) == 1 and s.trades[0].size == -3

    def _close_last_twice(s: Any) -> None:
        s.trades[-1].close(1)
        s.trades[-1].close(0.1)

    def _two_buys(s: Any) -> None:
        s.buy(size=1)
        s.buy(size=1)

    def _sell_one_if_held(s: Any) -> None:
        if s.position:
            s.sell(size=1)

    def _stop_limits(s: Any) -> None:
        s.buy(stop=112, limit=113, size=1)
        s.sell(stop=107, limit=105, size=1)

    def _two_with_sl(s: Any) -> None:
        s.buy(size=1, sl=90)
        s.buy(size=1, sl=80)

    def _close_first(s: Any) -> None:
        assert len(s.trades) == 2
        s.trades[0].close()

    def _move_sl_tp(s: Any) -> None:
        trade = s.trades[0]
        trade.sl = 105
        trade.tp = 107.9

    def _tp_then_sl_entries(s: Any) -> None:
        s.buy(size=1, tp=111)
        s.buy(size=1, sl=99)

    scripts = {
        "PositionRoundTrip": {1: lambda s: s.buy(), 2: _position_long_then_flat, 3: _flat},
        "HedgedBuySell": {
            1: lambda s: s.buy(size=2),
            2: _one_trade_then_sell(1),
            3: _two_trades,
        },
        "ExclusiveBuySell": {
            1: lambda s: s.buy(size=2),
            2: _one_trade_then_sell(3),
            3: _one_short_of_three,
        },
        "TradeClosedTwice": {1: lambda s: s.buy(), 2: _close_last_twice},
        "TwoBuysSellOne": {1: _two_buys, 2: _sell_one_if_held},
        "StopLimitPair": {1: _stop_limits},
        "BuyAndHold": {1: lambda s: s.buy()},
        "TaggedOrders": {
            1: lambda s: s.buy(size=2, tag="first"),
            2: lambda s: s.sell(size=1, tag="s"),
            3: lambda s: s.sell(size=1),
            4: lambda s: s.buy(tag="second"),
            5: lambda s: s.position.close(),
        },
        "TwoStopsCloseFirst": {1: _two_with_sl, 2: _close_first},
        "SlBeforeTp": {3: lambda s: s.buy(), 4: _move_sl_tp},
        "ShortStopTpSameBar": {2: lambda s: s.sell(stop=108, tp=105, sl=113)},
        "SlTpColumns": {1: _tp_then_sl_entries},
        "GappedStopLoss": {8: lambda s: s.buy(size=1, sl=99.5)},
    }

    class WellKnownGoog(Strategy):
        """Stop-limit long in 2006, closed in 2007, stop-limit short into 2008 (margin .1)."""

        def init(self) -> None:
            pass

        def next(self) -> None:
            day = self.data.index[-1]
            if day == pd.Timestamp("2006-10-19"):
                self.buy(stop=484, limit=466, size=100)
            elif day == pd.Timestamp("2007-10-30"):
                self.position.close()
            elif day == pd.Timestamp("2008-11-11"):
                self.sell(stop=self.data.Low[-1], limit=324.90, size=200)

    class LongSignals(Strategy):
        """Buy one unit on every bar above the 10-bar mean; close every long below it."""

        def init(self) -> None:
            ma = sma(self.data.Close, 10).to_numpy()
            close = np.asarray(self.data.Close, dtype="float64")
            self.enter = close > ma
            self.leave = close < ma

        def next(self) -> None:
            i = len(self.data) - 1
            if self.leave[i]:
                for trade in self.trades:
                    if trade.is_long:
                        trade.close(1.0)
            if self.enter[i]:
                self.buy(size=1)

    class TrailingAtr(Strategy):
        """Long above the 10-bar mean; a stop-loss trailing 3 ATR(40) below the close."""

        n_atr = 3.0

        def init(self) -> None:
            self.atr = true_range_atr(self.data.High, self.data.Low, self.data.Close, 40)
            self.ma = self.I(sma, self.data.Close, 10)

        def next(self) -> None:
            i = len(self.data) - 1
            close = self.data.Close[-1]
            for trade in self.trades:
                if trade.is_long:
                    trade.sl = max(trade.sl or -np.inf, close - self.atr[i] * self.n_atr)
                else:
                    trade.sl = min(trade.sl or np.inf, close + self.atr[i] * self.n_atr)
            if not self.position and close > self.ma[-1]:
                self.buy()

    class TradesOnlyOn20Bars(Strategy):
        def init(self) -> None:
            self.will_trade = len(self.data) == 20

        def next(self) -> None:
            if not self.will_trade:
                return
            if self.position:
                self.position.close()
            elif not self.closed_trades:
                self.buy()

    class BuyAtHundredWithStop(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            if self.data.Close[-1] == 100:
                self.buy(size=1, sl=90)

    class BracketEveryBar(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            self.buy(sl=1, tp=1e3)
            if self.position:
                self.position.close()
                for order in self.orders:
                    order.cancel()

    class ExtraColumns(Strategy):
        """Trades on an extra data column: long while `Signal` is positive, flat otherwise."""

        def init(self) -> None:
            assert len(self.data.Signal) == len(self.data.Close)
            assert len(self.data["P/E"]) == len(self.data.Close)

        def next(self) -> None:
            assert len(self.data["P/E"]) == len(self.data.Close)
            if self.data.Signal[-1] > 0 and not self.position:
                self.buy()
            elif self.data.Signal[-1] <= 0 and self.position:
                self.position.close()

    class BracketedSmaCross(Strategy):
        """SMA crosses with brackets: all-margin longs, half-margin shorts, tagged.

        With `flip` the position is closed before each entry; without, opposite
        trades pile up (netted, or held side by side under hedging).
        """

        fast = 10
        slow = 30
        sl_pct = 0.05
        tp_pct = 0.10
        flip = True

        def init(self) -> None:
            self.sma1 = self.I(sma, self.data.Close, self.fast)
            self.sma2 = self.I(sma, self.data.Close, self.slow)

        def next(self) -> None:
            close = self.data.Close[-1]
            lo, hi = 1 - self.sl_pct, 1 + self.tp_pct
            if crossover(self.sma1, self.sma2):
                if self.flip:
                    self.position.close()
                self.buy(sl=lo * close, tp=hi * close, tag="long")
            elif crossover(self.sma2, self.sma1):
                if self.flip:
                    self.position.close()
                lo, hi = 1 - self.tp_pct, 1 + self.sl_pct
                self.sell(size=0.5, sl=hi * close, tp=lo * close, tag="short")

    out = SimpleNamespace(
        SmaCross=SmaCross,
        BuyOnceCloseNext=BuyOnceCloseNext,
        HoldOne=HoldOne,
        Idle=Idle,
        ShortBracketsHalfCloses=ShortBracketsHalfCloses,
        BuyTooMuch=BuyTooMuch,
        InAndOut=InAndOut,
        HundredWithTakeProfit=HundredWithTakeProfit,
        EntryOnDate=EntryOnDate,
        TenUnitsHalfOut=TenUnitsHalfOut,
        CloseOnLastBar=CloseOnLastBar,
        TakeProfitOnePercent=TakeProfitOnePercent,
        WellKnownGoog=WellKnownGoog,
        LongSignals=LongSignals,
        TrailingAtr=TrailingAtr,
        TradesOnlyOn20Bars=TradesOnlyOn20Bars,
        BuyAtHundredWithStop=BuyAtHundredWithStop,
        BracketEveryBar=BracketEveryBar,
        ExtraColumns=ExtraColumns,
        BracketedSmaCross=BracketedSmaCross,
    )
    for name, steps in scripts.items():
        setattr(out, name, script(name, steps))
    return out
