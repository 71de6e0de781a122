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
from .oracle import ENGINES, Outcome, Scenario, check

SCENARIOS = [
    Scenario(
        "exclusive-sma-cross",
        data.goog,
        "SmaCross",
        settings={"exclusive_orders": True, "commission": 0.002},
    ),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario_matches_backtesting_py(
    scenario: Scenario, engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    check(engine, scenario, oracle(scenario))
