"""Hedging (opposite trades held side by side) and exclusive orders (each order replaces all).

Re-creates backtesting.py's broker-option scenarios: with `hedging` a sell
after a buy opens a second trade instead of reducing the first; with
`exclusive_orders` a new order closes every open trade first. Each runs in
backtesting.py at test time and in isoloop, natively and through compat (the
strategies assert the trade counts on the bar after each order).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from . import data
from .oracle import Outcome, Scenario, cases, check

SCENARIOS = [
    Scenario(
        "hedging-buy-then-sell",
        data.goog20,
        "HedgedBuySell",
        settings={"hedging": True},
    ),
    Scenario(
        "exclusive-buy-then-sell",
        data.goog20,
        "ExclusiveBuySell",
        settings={"exclusive_orders": True},
    ),
    Scenario(
        "exclusive-sma-cross",
        data.goog,
        "SmaCross",
        settings={"exclusive_orders": True, "commission": 0.002},
    ),
]
BY_ID = {s.id: s for s in SCENARIOS}


@pytest.mark.parametrize(("scenario", "engine"), cases(SCENARIOS))
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
