"""Sizing and margin: orders larger than the margin, leverage, many one-unit entries, micro-units.

Re-creates backtesting.py's scenarios on order size and margin (an absolute size
the account cannot afford, the broker parameters with 10x leverage and
fill-on-close, the stop-limit "well-known" trades on 10x margin that end at
zero equity, its signal helper buying one unit per bar until margin runs out,
its fractional-units helper), each run in backtesting.py at test time and in
isoloop, natively and through compat.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from backtesting.lib import FractionalBacktest, SignalStrategy

from . import data
from .oracle import BT, Outcome, Scenario, bt_stats, cases, check, from_bt, native_outcome

MICRO = 1e-6


def btc_in_micro_units() -> pd.DataFrame:
    """BTCUSD from 2015, priced per millionth of a coin (what a fractional backtest trades)."""
    df = data.btcusd().loc["2015":].copy()
    df[["Open", "High", "Low", "Close"]] *= MICRO
    df["Volume"] /= MICRO
    return df


SCENARIOS = [
    Scenario(
        "absolute-size-beyond-margin",
        lambda: data.goog().iloc[:3],
        "BuyTooMuch",
        settings={"cash": 1000},
    ),
    Scenario(
        "broker-params-margin-spread-on-close",
        data.goog100,
        "SmaCross",
        settings={"cash": 1000, "spread": 0.01, "margin": 0.1, "trade_on_close": True},
    ),
    Scenario(
        "well-known-stop-limits-on-margin", data.goog, "WellKnownGoog", settings={"margin": 0.1}
    ),
    Scenario("one-unit-signals-until-margin-runs-out", data.goog, "LongSignals"),
    Scenario(
        "micro-units-sma-cross",
        btc_in_micro_units,
        "SmaCross",
        {"fast": 2, "slow": 3},
        {"cash": 100},
        symbol="BTCUSD",
    ),
]


@pytest.mark.parametrize(("scenario", "engine"), cases(SCENARIOS))
def test_scenario_matches_backtesting_py(
    scenario: Scenario, engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    check(engine, scenario, oracle(scenario))


def test_unaffordable_absolute_size_makes_no_trade(oracle: Callable[[Scenario], Outcome]) -> None:
    ours = check("native", SCENARIOS[0], oracle(SCENARIOS[0]))
    assert len(ours.trades) == 0
    assert ours.equity[-1] == 1000


def test_well_known_trades_end_the_account_at_zero(oracle: Callable[[Scenario], Outcome]) -> None:
    scenario = SCENARIOS[2]
    ours = check("native", scenario, oracle(scenario))
    assert len(ours.trades) == 2
    assert ours.equity[-1] == 0


def test_signal_re_creation_is_backtesting_py_signal_strategy() -> None:
    """The re-created one-unit signal strategy is what backtesting.py's own helper does."""

    class Helper(SignalStrategy):
        def init(self) -> None:
            super().init()
            ma = self.data.Close.s.rolling(10).mean()
            self.set_signal(self.data.Close > ma, self.data.Close < ma)

    theirs = from_bt(bt_stats(data.goog(), Helper))
    mine = from_bt(bt_stats(data.goog(), BT.LongSignals))
    np.testing.assert_array_equal(mine.equity, theirs.equity)
    pd.testing.assert_frame_equal(mine.trades, theirs.trades)


def test_micro_units_equal_backtesting_py_fractional_backtest() -> None:
    """Trading millionths of a coin natively is backtesting.py's FractionalBacktest, rescaled."""
    frac = FractionalBacktest(
        data.btcusd().loc["2015":],
        BT.SmaCross,
        fractional_unit=MICRO,
        cash=100,
        finalize_trades=True,
    )
    theirs = frac.run(fast=2, slow=3)
    ours = native_outcome(SCENARIOS[4])
    t = theirs["_trades"]
    assert len(ours.trades) == len(t)
    np.testing.assert_allclose(ours.trades["size"] * MICRO, t["Size"], rtol=1e-9)
    np.testing.assert_allclose(ours.trades["entry_price"] / MICRO, t["EntryPrice"], rtol=1e-9)
    np.testing.assert_allclose(ours.trades["exit_price"] / MICRO, t["ExitPrice"], rtol=1e-9)
    np.testing.assert_allclose(ours.trades["pnl"], t["PnL"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.equity, theirs["_equity_curve"]["Equity"], rtol=1e-9)
