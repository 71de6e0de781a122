"""The container pool size: how many built, idle containers a coordinator keeps for reuse."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from isoloop.backtest.run import BacktestCoordinator
from isoloop.data.bars import MarketData
from isoloop.errors import ConfigError
from isoloop.scope import ScopeCoordinator, SharedServices
from isoloop.scope.coordinator import DEFAULT_POOL_SIZE

STANDARD = Path(__file__).parents[2] / "support" / "blueprints" / "standard.yaml"


def containers_of(coord: ScopeCoordinator, at_once: int, rounds: int = 2) -> list[list[object]]:
    """The containers of `at_once` scopes open together, over `rounds` rounds."""
    seen: list[list[object]] = []
    for _ in range(rounds):
        with ExitStack() as stack:
            runs = [
                stack.enter_context(coord.scope(STANDARD, config={"journal": []}))
                for _ in range(at_once)
            ]
            seen.append([run.container for run in runs])
    return seen


@pytest.mark.parametrize(("pool_size", "reused"), [(0, 0), (1, 1), (2, 2), (DEFAULT_POOL_SIZE, 3)])
def test_the_pool_size_bounds_how_many_containers_the_next_scopes_reuse(
    pool_size: int, reused: int
) -> None:
    coord = ScopeCoordinator(
        SharedServices(market_data=MarketData({})), stop_timeout=0.5, pool_size=pool_size
    )
    try:
        first, second = containers_of(coord, at_once=3)
    finally:
        coord.close()
    assert sum(any(c is d for d in first) for c in second) == reused


def test_the_default_is_eight_and_a_backtest_coordinator_passes_it_on() -> None:
    shared = SharedServices(market_data=MarketData({}))
    assert ScopeCoordinator(shared).pool_size == DEFAULT_POOL_SIZE == 8
    coord = BacktestCoordinator(shared, pool_size=0)
    try:
        assert coord._scopes is not None and coord._scopes.pool_size == 0
    finally:
        coord.close()


@pytest.mark.parametrize("bad", [-1, 1025, 2.0, True, "8"])
def test_a_pool_size_out_of_range_is_refused_with_the_range(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"pool_size: .*(0 to 1024|out of range)"):
        ScopeCoordinator(SharedServices(market_data=MarketData({})), pool_size=bad)  # type: ignore[arg-type]
