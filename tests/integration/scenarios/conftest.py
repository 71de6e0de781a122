"""The oracle's runs, shared: backtesting.py runs each scenario once per session."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .oracle import Outcome, Scenario, bt_outcome


@pytest.fixture(scope="session")
def oracle() -> Callable[[Scenario], Outcome]:
    """backtesting.py's outcome of a scenario (run at test time, memoized by scenario id)."""
    seen: dict[str, Outcome] = {}

    def get(scenario: Scenario) -> Outcome:
        if scenario.id not in seen:
            seen[scenario.id] = bt_outcome(scenario)
        return seen[scenario.id]

    return get
