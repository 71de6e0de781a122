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
from .oracle import ENGINES, Outcome, Scenario, check

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
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario_matches_backtesting_py(
    scenario: Scenario, engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    check(engine, scenario, oracle(scenario))
