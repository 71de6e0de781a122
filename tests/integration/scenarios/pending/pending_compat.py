"""Pending: every scenario through `isoloop.compat.backtesting` (the oracle's own code).

Parked because `isoloop.compat.backtesting` does not exist yet
(`ModuleNotFoundError: No module named 'isoloop.compat'`). Once it lands, each
scenario here whose compat run equals backtesting.py's moves to its module's
parametrization (`ENGINES` in oracle.py gains "compat").
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
from ..oracle import Outcome, Scenario, check
from . import pending_brackets, pending_trades

SCENARIOS = [
    s
    for module in (
        test_commission,
        test_hedging_exclusive,
        test_orders_brackets,
        test_sizing_margin,
        test_stats_data,
        test_trades_close,
        pending_brackets,
        pending_trades,
    )
    for s in module.SCENARIOS
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_compat_matches_backtesting_py(
    scenario: Scenario, oracle: Callable[[Scenario], Outcome]
) -> None:
    check("compat", scenario, oracle(scenario))
