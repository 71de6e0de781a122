"""Pending: the (scenario, engine) runs that do not equal backtesting.py yet, and their checks.

Each scenario's `pending` note (in its `test_*.py` module) is the difference seen
when it was parked; this file runs exactly those runs. A run moves back by
deleting its note once it passes.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .. import (
    test_commission,
    test_hedging_exclusive,
    test_orders_brackets,
    test_sizing_margin,
    test_stats_data,
    test_trades_close,
)
from ..oracle import Outcome, Scenario, check, pending_cases

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


@pytest.mark.parametrize(("scenario", "engine"), pending_cases(SCENARIOS))
def test_pending_scenario_matches_backtesting_py(
    scenario: Scenario, engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    check(engine, scenario, oracle(scenario))
