"""Where isoloop differs from backtesting.py on purpose, with the evidence computed here.

A stop entry's stop-loss in the entry bar. backtesting.py runs a bar's whole
order queue again after a market entry that has brackets; in that second pass
the brackets of a *stop* entry filled in the first pass are processed too, so a
stop-loss between the bar's open and the entry stop fills at the bar's open —
a price the market traded before the position existed. isoloop keeps a
stop/limit entry's brackets for the next bar, whatever else the bar holds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from backtesting import Backtest, Strategy

import isoloop
from isoloop.engine import Strategy as NativeStrategy

# Bar 2 opens at 100, trades up to 110 (through the entry stop at 105) and down to 95;
# bar 3 opens at 102 and trades down to 96 (through the stop-loss at 101).
BARS = pd.DataFrame(
    {
        "Open": [100.0, 100.0, 100.0, 102.0, 100.0],
        "High": [100.0, 100.0, 110.0, 102.0, 100.0],
        "Low": [100.0, 100.0, 95.0, 96.0, 100.0],
        "Close": [100.0, 100.0, 100.0, 100.0, 100.0],
        "Volume": 1_000.0,
    },
    index=pd.date_range("2021-01-04", periods=5, freq="D"),
)
STOP, SL = 105.0, 101.0


class OracleTwoEntries(Strategy):
    def init(self) -> None:
        pass

    def next(self) -> None:
        if len(self.data) == 2:
            self.buy(size=1, sl=50.0, tp=200.0)  # a market entry with brackets: bar re-run
            self.buy(size=1, stop=STOP, sl=SL)


class NativeTwoEntries(NativeStrategy):
    def on_bar(self, i: int) -> None:
        if i == 1:
            self.buy(1, sl=50.0, tp=200.0)
            self.buy(1, stop=STOP, sl=SL)


def test_a_stop_entry_s_stop_loss_never_fills_at_an_open_before_the_entry() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = Backtest(BARS, OracleTwoEntries, cash=10_000, finalize_trades=True).run()
    ours = isoloop.Backtest(BARS, NativeTwoEntries, symbol="X", cash=10_000).run()

    t = theirs["_trades"]
    stop_entry = t[t["EntryPrice"] == STOP].iloc[0]
    # backtesting.py: entered at 105 in bar 2 and stopped out in the same bar at 100, the
    # bar's open — below the stop-loss, and before the price ever reached the entry.
    assert stop_entry["EntryBar"] == stop_entry["ExitBar"] == 2
    assert stop_entry["ExitPrice"] == BARS["Open"].iloc[2] < SL

    mine = ours.trades
    row = mine[mine["entry_price"] == STOP].iloc[0]
    # isoloop: the stop-loss works from bar 3, which trades down through it: out at 101.
    assert (row["entry_bar"], row["exit_bar"], row["exit_price"]) == (2, 3, SL)
    # The market entry (and everything else) is the same in both.
    market = mine[mine["entry_price"] == 100.0]
    np.testing.assert_array_equal(market["exit_bar"], t[t["EntryPrice"] == 100.0]["ExitBar"])
