"""Pending: the (scenario, engine) runs that do not equal backtesting.py yet, and their checks.

Each scenario's `pending` note (in its `test_*.py` module) is the difference seen
when it was parked; this file runs exactly those runs. A run moves back by
deleting its note once it passes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import backtesting
import pytest
from backtesting import Backtest as BtBacktest

import isoloop
from support.scenario_strategies import SmaCross

from .. import (
    data,
    test_commission,
    test_hedging_exclusive,
    test_orders_brackets,
    test_sizing_margin,
    test_stats_data,
    test_trades_close,
)
from ..oracle import BT, Outcome, Scenario, check, pending_cases

SCENARIOS = [
    s
    for module in (
        test_commission,
        test_hedging_exclusive,
        test_orders_brackets,
        test_sizing_margin,
        test_stats_data,
        test_trades_close,
    )
    for s in module.SCENARIOS
]


@pytest.fixture(autouse=True)
def _oracle_optimizes_in_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """backtesting.py pickles strategies for its process pool; these are built in a function."""
    from multiprocessing.dummy import Pool

    monkeypatch.setattr(backtesting, "Pool", Pool)


@pytest.mark.parametrize(("scenario", "engine"), pending_cases(SCENARIOS))
def test_pending_scenario_matches_backtesting_py(
    scenario: Scenario, engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    check(engine, scenario, oracle(scenario))


# isoloop.Backtest(frame with a tz-aware DatetimeIndex) raises TypeError: data/validation.py
# _set_index returns such a frame unchanged (the UTC conversion is only on the column
# path), so _check_rules' `stamps.astype("int64")` meets an object array of Timestamps.
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
