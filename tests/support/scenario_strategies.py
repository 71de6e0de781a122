"""Native isoloop strategies re-creating backtesting.py's behavioural test scenarios.

Each class here is the isoloop spelling of one scenario of
`tests/integration/scenarios/bt_strategies.py` (the same decisions on the same
bars), so `tests/integration/scenarios/` can run it beside backtesting.py on the
same data and compare stats, trades and equity. Importable as
`support.scenario_strategies:Name` (configs and sweeps name them that way).

`on_bar(i)` is backtesting.py's `next()` on the bar with `len(self.data) == i + 1`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from isoloop.engine.strategy import Strategy
from isoloop.examples.sma_cross import SmaCross, crossover_signals, sma

__all__ = [
    "BracketEveryBar",
    "BracketedSmaCross",
    "BuyAtHundredWithStop",
    "BuyOnceCloseNext",
    "BuyTooMuch",
    "CloseOnLastBar",
    "EntryOnDate",
    "ExclusiveBuySell",
    "ExtraColumns",
    "GappedStopLoss",
    "HedgedBuySell",
    "HoldOne",
    "HundredWithTakeProfit",
    "Idle",
    "InAndOut",
    "LongSignals",
    "PositionRoundTrip",
    "ShortBracketsHalfCloses",
    "ShortStopTpSameBar",
    "SlBeforeTp",
    "SlTpColumns",
    "SmaCross",
    "StopLimitPair",
    "TaggedOrders",
    "TakeProfitOnePercent",
    "TenUnitsHalfOut",
    "TradeClosedTwice",
    "TradesOnlyOn20Bars",
    "TrailingAtr",
    "TwoBuysSellOne",
    "TwoStopsCloseFirst",
    "WellKnownGoog",
    "commission_signed_one_percent",
]

THREE_DAYS = np.timedelta64(3, "D")


def commission_signed_one_percent(size: float, price: float) -> float:
    """1% of the signed traded value (negative on sells, as a user's lambda would give)."""
    return size * price * 0.01


def _day(value: str) -> np.datetime64:
    return np.datetime64(pd.Timestamp(value).value, "ns")


class Idle(Strategy):
    def on_bar(self, i: int) -> None:
        pass


class BuyOnceCloseNext(Strategy):
    def init(self) -> None:
        self.done = False

    def on_bar(self, i: int) -> None:
        if not self.done:
            self.buy()
            self.done = True
        if self.position():
            self.close()


class HoldOne(Strategy):
    def on_bar(self, i: int) -> None:
        if not self.position():
            self.buy()


class ShortBracketsHalfCloses(Strategy):
    """Short stop-limit brackets at SMA(10) crosses under the close; then halved."""

    def init(self) -> None:
        close = np.asarray(self.data.close, dtype="float64")
        self.close_l: list[float] = close.tolist()
        self.cross: list[bool] = crossover_signals(sma(close, 10), close).tolist()
        self.warmup = 9

    def on_bar(self, i: int) -> None:
        if self.cross[i]:
            for order in self.orders:
                if not order.is_contingent:
                    self.cancel(order)
            price = self.close_l[i]
            self.sell(0.21, limit=price, stop=price, sl=1.05 * price, tp=0.9 * price)
        elif self.position():
            assert self.position() < 0
            trade = self.trades[0]
            if self.index[i] - self.index[trade.entry_bar] > THREE_DAYS:
                assert trade.sl and trade.tp and trade.exit_bar is None
                self.close(portion=0.5)
                self.close(portion=0.5)
                self.close(portion=0.5)
                self.close()
                self.close()


class BuyTooMuch(Strategy):
    def on_bar(self, i: int) -> None:
        self.buy(10_000)


class InAndOut(Strategy):
    def init(self) -> None:
        self.finished = False

    def on_bar(self, i: int) -> None:
        if self.finished:
            return
        if not self.position():
            self.buy()
        else:
            self.close()
            self.finished = True


class HundredWithTakeProfit(Strategy):
    def on_bar(self, i: int) -> None:
        if i == 1:
            self.buy(100, tp=3)


class EntryOnDate(Strategy):
    """One entry on `day` with the given stop / sl / tp (None: not set)."""

    def validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "day": str(params.get("day", "2012-10-17")),
            "stop": params.get("stop"),
            "sl": params.get("sl"),
            "tp": params.get("tp"),
        }

    def init(self) -> None:
        self.day = _day(self.params["day"])

    def on_bar(self, i: int) -> None:
        if self.index[i] == self.day:
            p = self.params
            self.buy(stop=p["stop"], sl=p["sl"], tp=p["tp"])


class TenUnitsHalfOut(Strategy):
    def init(self) -> None:
        close = np.asarray(self.data.close, dtype="float64")
        fast, slow = sma(close, 10), sma(close, 20)
        self.up: list[bool] = crossover_signals(fast, slow).tolist()
        self.down: list[bool] = crossover_signals(slow, fast).tolist()
        self.warmup = 19

    def on_bar(self, i: int) -> None:
        if not self.position() and self.up[i]:
            self.buy(10)
        if self.position() and self.down[i]:
            self.close(portion=0.5)


class CloseOnLastBar(Strategy):
    def validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"last": int(params.get("last", 20))}

    def on_bar(self, i: int) -> None:
        if not self.position():
            self.buy()
        elif i + 1 == self.params["last"]:
            self.close()


class TakeProfitOnePercent(Strategy):
    def on_bar(self, i: int) -> None:
        self.buy(tp=self.data.close_l[i] * 1.01)


class _Script(Strategy):
    """Per-bar actions: `steps[bar]` runs on that bar."""

    steps: ClassVar[dict[int, Callable[[Any], None]]] = {}

    def on_bar(self, i: int) -> None:
        step = self.steps.get(i)
        if step is not None:
            step(self)


def _position_long_then_flat(s: Strategy) -> None:
    assert s.position() > 0
    s.close()


def _flat(s: Strategy) -> None:
    assert not s.position()


def _one_trade_then_sell(n: float) -> Callable[[Strategy], None]:
    def step(s: Strategy) -> None:
        assert len(s.trades) == 1
        s.sell(n)

    return step


def _two_trades(s: Strategy) -> None:
    assert len(s.trades) == 2


def _one_short_of_three(s: Strategy) -> None:
    assert len(s.trades) == 1
    assert s.trades[0].size == -3


def _close_last_twice(s: Strategy) -> None:
    s.trades[-1].close(1)
    s.trades[-1].close(0.1)


def _two_buys(s: Strategy) -> None:
    s.buy(1)
    s.buy(1)


def _sell_one_if_held(s: Strategy) -> None:
    if s.position():
        s.sell(1)


def _stop_limits(s: Strategy) -> None:
    s.buy(1, stop=112, limit=113)
    s.sell(1, stop=107, limit=105)


def _two_with_sl(s: Strategy) -> None:
    s.buy(1, sl=90)
    s.buy(1, sl=80)


def _close_first(s: Strategy) -> None:
    assert len(s.trades) == 2
    s.trades[0].close()


def _move_sl_tp(s: Strategy) -> None:
    trade = s.trades[0]
    trade.sl = 105
    trade.tp = 107.9


def _tp_then_sl_entries(s: Strategy) -> None:
    s.buy(1, tp=111)
    s.buy(1, sl=99)


class PositionRoundTrip(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {
        1: lambda s: s.buy(),
        2: _position_long_then_flat,
        3: _flat,
    }


class HedgedBuySell(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {
        1: lambda s: s.buy(2),
        2: _one_trade_then_sell(1),
        3: _two_trades,
    }


class ExclusiveBuySell(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {
        1: lambda s: s.buy(2),
        2: _one_trade_then_sell(3),
        3: _one_short_of_three,
    }


class TradeClosedTwice(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {1: lambda s: s.buy(), 2: _close_last_twice}


class TwoBuysSellOne(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {1: _two_buys, 2: _sell_one_if_held}


class StopLimitPair(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {1: _stop_limits}


class BuyAndHold(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {1: lambda s: s.buy()}


class TaggedOrders(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {
        1: lambda s: s.buy(2, tag="first"),
        2: lambda s: s.sell(1, tag="s"),
        3: lambda s: s.sell(1),
        4: lambda s: s.buy(tag="second"),
        5: lambda s: s.close(),
    }


class TwoStopsCloseFirst(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {1: _two_with_sl, 2: _close_first}


class SlBeforeTp(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {3: lambda s: s.buy(), 4: _move_sl_tp}


class ShortStopTpSameBar(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {
        2: lambda s: s.sell(stop=108, tp=105, sl=113)
    }


class SlTpColumns(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {1: _tp_then_sl_entries}


class GappedStopLoss(_Script):
    steps: ClassVar[dict[int, Callable[[Any], None]]] = {8: lambda s: s.buy(1, sl=99.5)}


class WellKnownGoog(Strategy):
    """Stop-limit long in 2006, closed in 2007, stop-limit short into 2008 (margin .1)."""

    def init(self) -> None:
        self.long_day = _day("2006-10-19")
        self.close_day = _day("2007-10-30")
        self.short_day = _day("2008-11-11")

    def on_bar(self, i: int) -> None:
        day = self.index[i]
        if day == self.long_day:
            self.buy(100, stop=484, limit=466)
        elif day == self.close_day:
            self.close()
        elif day == self.short_day:
            self.sell(200, stop=self.data.low_l[i], limit=324.90)


class LongSignals(Strategy):
    """One unit on every bar above the 10-bar mean; every long closed below it."""

    def init(self) -> None:
        close = np.asarray(self.data.close, dtype="float64")
        ma = sma(close, 10)
        self.enter: list[bool] = (close > ma).tolist()
        self.leave: list[bool] = (close < ma).tolist()

    def on_bar(self, i: int) -> None:
        if self.leave[i]:
            for trade in self.trades:
                if trade.is_long:
                    trade.close(1.0)
        if self.enter[i]:
            self.buy(1)


class TrailingAtr(Strategy):
    """Long above the 10-bar mean; a stop-loss trailing 3 ATR(40) below the close."""

    def init(self) -> None:
        d = self.data
        hi = np.asarray(d.high, dtype="float64")
        lo = np.asarray(d.low, dtype="float64")
        close = np.asarray(d.close, dtype="float64")
        prev = pd.Series(close).shift(1).to_numpy()
        tr = np.max([hi - lo, np.abs(prev - hi), np.abs(prev - lo)], axis=0)
        self.atr: list[float] = pd.Series(tr).rolling(40).mean().bfill().tolist()
        self.ma: list[float] = sma(close, 10).tolist()
        self.close_l: list[float] = close.tolist()
        self.warmup = 9

    def on_bar(self, i: int) -> None:
        close = self.close_l[i]
        for trade in self.trades:
            if trade.is_long:
                trade.sl = max(trade.sl or -np.inf, close - self.atr[i] * 3.0)
            else:
                trade.sl = min(trade.sl or np.inf, close + self.atr[i] * 3.0)
        if not self.position() and close > self.ma[i]:
            self.buy()


class TradesOnlyOn20Bars(Strategy):
    def init(self) -> None:
        self.will_trade = len(self.index) == 20

    def on_bar(self, i: int) -> None:
        if not self.will_trade:
            return
        if self.position():
            self.close()
        elif not self.closed_trades:
            self.buy()


class BuyAtHundredWithStop(Strategy):
    def on_bar(self, i: int) -> None:
        if self.data.close_l[i] == 100:
            self.buy(1, sl=90)


class BracketEveryBar(Strategy):
    def on_bar(self, i: int) -> None:
        self.buy(sl=1, tp=1e3)
        if self.position():
            self.close()
            for order in self.orders:
                self.cancel(order)


class ExtraColumns(Strategy):
    """Long while the extra column `Signal` is positive, flat otherwise."""

    def init(self) -> None:
        self.signal: list[float] = np.asarray(self.data.extra["Signal"]).tolist()
        assert len(self.data.extra["P/E"]) == len(self.index)

    def on_bar(self, i: int) -> None:
        if self.signal[i] > 0 and not self.position():
            self.buy()
        elif self.signal[i] <= 0 and self.position():
            self.close()


class BracketedSmaCross(Strategy):
    """SMA crosses with brackets: all-margin longs, half-margin shorts, tagged.

    With `flip` the position is closed before each entry; without, opposite
    trades pile up (netted, or held side by side under hedging).
    """

    def validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "fast": int(params.get("fast", 10)),
            "slow": int(params.get("slow", 30)),
            "sl_pct": float(params.get("sl_pct", 0.05)),
            "tp_pct": float(params.get("tp_pct", 0.10)),
            "flip": bool(params.get("flip", True)),
        }

    def init(self) -> None:
        p = self.params
        close = np.asarray(self.data.close, dtype="float64")
        fast, slow = sma(close, p["fast"]), sma(close, p["slow"])
        self.up: list[bool] = crossover_signals(fast, slow).tolist()
        self.down: list[bool] = crossover_signals(slow, fast).tolist()
        self.close_l: list[float] = close.tolist()
        self.warmup = p["slow"] - 1

    def on_bar(self, i: int) -> None:
        p = self.params
        close = self.close_l[i]
        if self.up[i]:
            if p["flip"]:
                self.close()
            self.buy(sl=(1 - p["sl_pct"]) * close, tp=(1 + p["tp_pct"]) * close, tag="long")
        elif self.down[i]:
            if p["flip"]:
                self.close()
            sl, tp = (1 + p["sl_pct"]) * close, (1 - p["tp_pct"]) * close
            self.sell(0.5, sl=sl, tp=tp, tag="short")
