"""Commissions: a rate with a spread, fixed + relative, a function of (size, price).

Re-creates backtesting.py's commission scenarios (one round trip on the first
GOOG bars with spread and commission, with a `(fixed, relative)` pair, with a
commission function; a take-profit exit with `(fixed, relative)` on a small
synthetic series), each run in backtesting.py at test time and in isoloop,
natively and through compat.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from support.scenario_strategies import commission_signed_one_percent

from . import data
from .oracle import Outcome, Scenario, cases, check

SCENARIOS = [
    Scenario(
        "round-trip-spread-and-rate",
        data.goog20,
        "InAndOut",
        settings={"cash": 10_000, "spread": 0.01, "commission": 0.01},
    ),
    Scenario(
        "round-trip-fixed-plus-relative",
        data.goog20,
        "InAndOut",
        settings={"cash": 10_000, "commission": (100, 0.01)},
    ),
    Scenario(
        "round-trip-commission-function",
        data.goog20,
        "InAndOut",
        settings={"cash": 10_000, "commission": commission_signed_one_percent},
    ),
    Scenario(
        "take-profit-fixed-plus-relative",
        lambda: data.flat_bars([1, 1, 1, 2, 4, 1, 2]),
        "HundredWithTakeProfit",
        settings={"cash": 5000, "commission": (10, 0.01)},
    ),
]


@pytest.mark.parametrize(("scenario", "engine"), cases(SCENARIOS))
def test_scenario_matches_backtesting_py(
    scenario: Scenario, engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    check(engine, scenario, oracle(scenario))


def test_fixed_plus_relative_is_charged_on_both_legs(
    oracle: Callable[[Scenario], Outcome],
) -> None:
    """Entry at 1 and TP exit at the gapped open 4: fixed twice plus 1% of both legs' value."""
    scenario = SCENARIOS[3]
    ours = check("native", scenario, oracle(scenario))
    trade = ours.trades.iloc[0]
    legs = trade["size"] * (trade["entry_price"] + trade["exit_price"])
    assert trade["commission"] == pytest.approx(2 * 10 + 0.01 * legs, rel=1e-12)
    assert ours.stats["commissions"] == pytest.approx(trade["commission"], rel=1e-12)
