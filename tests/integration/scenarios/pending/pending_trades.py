"""Pending: trade objects, partial closes, hedging, exclusive orders, a TP exit, tz-aware sweeps.

Each scenario's comment is the failure seen when it was parked (native engine).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import backtesting
import pytest
from backtesting import Backtest as BtBacktest

import isoloop
from support.scenario_strategies import SmaCross

from .. import data
from ..oracle import BT, ENGINES, Outcome, Scenario, check

SCENARIOS = [
    # AttributeError: 'HedgedBuySell' object has no attribute 'trades'
    Scenario("hedging-buy-then-sell", data.goog20, "HedgedBuySell", settings={"hedging": True}),
    # AttributeError: 'ExclusiveBuySell' object has no attribute 'trades'
    Scenario(
        "exclusive-buy-then-sell",
        data.goog20,
        "ExclusiveBuySell",
        settings={"exclusive_orders": True},
    ),
    # AttributeError: 'TradeClosedTwice' object has no attribute 'trades'
    Scenario("trade-closed-twice-in-one-bar", data.goog20, "TradeClosedTwice"),
    # TypeError: Strategy.close() got an unexpected keyword argument 'portion'
    Scenario("position-half-closes", data.goog, "TenUnitsHalfOut", settings={"spread": 0.002}),
    # AttributeError: 'TradesOnlyOn20Bars' object has no attribute 'closed_trades'
    Scenario(
        "trades-only-on-20-bars-20",
        lambda: data.goog().iloc[:20],
        "TradesOnlyOn20Bars",
        settings={"cash": 100_000},
    ),
    # AttributeError: 'LongSignals' object has no attribute 'trades'
    Scenario("one-unit-signals-until-margin-runs-out", data.goog, "LongSignals"),
    # TypeError: Strategy.order() got an unexpected keyword argument 'tp'
    Scenario(
        "take-profit-fixed-plus-relative",
        lambda: data.flat_bars([1, 1, 1, 2, 4, 1, 2]),
        "HundredWithTakeProfit",
        settings={"cash": 5000, "commission": (10, 0.01)},
    ),
]
BY_ID = {s.id: s for s in SCENARIOS}


@pytest.fixture(autouse=True)
def _oracle_optimizes_in_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """backtesting.py pickles strategies for its process pool; these are built in a function."""
    from multiprocessing.dummy import Pool

    monkeypatch.setattr(backtesting, "Pool", Pool)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario_matches_backtesting_py(
    scenario: Scenario, engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    check(engine, scenario, oracle(scenario))


def test_hedged_sell_opens_a_second_trade(oracle: Callable[[Scenario], Outcome]) -> None:
    scenario = BY_ID["hedging-buy-then-sell"]
    ours = check("native", scenario, oracle(scenario))
    assert sorted(ours.trades["size"]) == [-1, 2]


def test_exclusive_sell_replaces_the_long(oracle: Callable[[Scenario], Outcome]) -> None:
    scenario = BY_ID["exclusive-buy-then-sell"]
    ours = check("native", scenario, oracle(scenario))
    assert list(ours.trades["size"]) == [2, -3]


def test_only_the_20_bar_series_trades(oracle: Callable[[Scenario], Outcome]) -> None:
    scenario = BY_ID["trades-only-on-20-bars-20"]
    assert len(check("native", scenario, oracle(scenario)).trades) == 1


def test_fixed_plus_relative_is_charged_on_both_legs(
    oracle: Callable[[Scenario], Outcome],
) -> None:
    """Entry at 1 and TP exit at the gapped open 4: fixed twice plus 1% of both legs' value."""
    scenario = BY_ID["take-profit-fixed-plus-relative"]
    ours = check("native", scenario, oracle(scenario))
    trade = ours.trades.iloc[0]
    legs = trade["size"] * (trade["entry_price"] + trade["exit_price"])
    assert trade["commission"] == pytest.approx(2 * 10 + 0.01 * legs, rel=1e-12)
    assert ours.stats["commissions"] == pytest.approx(trade["commission"], rel=1e-12)


# TypeError in isoloop/data/validation.py _check_rules (uncommitted work in the tree at
# 22:10): `stamps.astype("int64")` on a tz-aware index's object array.
def test_timezone_aware_index_optimizes_like_the_oracle() -> None:
    df = data.goog100()
    df.index = df.index.tz_localize("Asia/Kolkata")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = BtBacktest(df, BT.SmaCross, finalize_trades=True).optimize(fast=[2], slow=[4])
    res = isoloop.Backtest(df, SmaCross, symbol="GOOG").optimize(
        fast=[2], slow=[4], objective="sqn", executor="serial"
    )
    assert res.best is not None
    assert res.best.stats["trades"] == theirs["# Trades"] > 0
    assert res.best.stats["equity_final"] == pytest.approx(theirs["Equity Final [$]"], rel=1e-9)
