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

HEDGED_FINALIZE = (
    "the strategy sees 2 open trades, but the end-of-run close leaves one closed trade of "
    "size 1 (the net position) instead of the long 2 and the short 1"
)

SCENARIOS = [
    Scenario(
        "hedging-buy-then-sell",
        data.goog20,
        "HedgedBuySell",
        settings={"hedging": True},
        pending={"native": HEDGED_FINALIZE, "compat": HEDGED_FINALIZE},
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


def test_exclusive_sell_replaces_the_long(oracle: Callable[[Scenario], Outcome]) -> None:
    scenario = BY_ID["exclusive-buy-then-sell"]
    ours = check("native", scenario, oracle(scenario))
    assert list(ours.trades["size"]) == [2, -3]
