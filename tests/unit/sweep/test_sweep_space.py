"""Search spaces and searches: order, filtering, determinism, laziness of ids."""

from __future__ import annotations

import itertools

import pytest

from isoloop.errors import ConfigError, LimitExceeded
from isoloop.sweep import GridSearch, RandomSearch, SearchSpace, compile_constraint
from isoloop.sweep.config import SweepConfig


def test_grid_order_is_keys_as_written_last_key_fastest():
    space = SearchSpace.from_mapping({"slow": [30, 20], "fast": {"range": [1, 4, 1]}})
    points = list(space.points())
    expected = [{"slow": s, "fast": f} for s, f in itertools.product([30, 20], [1, 2, 3])]
    assert points == expected
    assert [list(p) for p in points] == [["slow", "fast"]] * 6


def test_range_stop_is_exclusive_for_ints_and_floats():
    space = SearchSpace.from_mapping(
        {
            "a": {"range": [10, 70, 5]},
            "b": {"range": [0.1, 0.5, 0.1]},
            "c": {"choice": ["x", "y"]},
        }
    )
    a, b, c = space.dimensions
    assert a.values == tuple(range(10, 70, 5))
    assert b.values == (0.1, 0.2, 0.3, 0.4)  # no 0.30000000000000004, no 0.5
    assert c.values == ("x", "y")


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"a": {"range": [1, 5, 0]}}, "step must be > 0"),
        ({"a": {"range": [5, 1, 1]}}, "is empty"),
        ({"a": {"range": [1, 5]}}, "[start, stop, step]"),
        ({"a": []}, "is empty"),
        ({"a": [1, 1]}, "twice"),
        ({"a": {"between": [1, 2]}}, "must be a list"),
        ({}, "space is empty"),
    ],
)
def test_bad_spaces_name_the_key(spec, fragment):
    with pytest.raises(ConfigError) as info:
        SearchSpace.from_mapping(spec)
    assert fragment in str(info.value)


def test_grid_ids_are_dense_over_the_filtered_points():
    space = SearchSpace.from_mapping({"fast": [5, 10, 20], "slow": [10, 20, 30]})
    search = GridSearch(space, compile_constraint("fast < slow", space.keys))
    trials = list(search.trials())
    assert [t[0] for t in trials] == list(range(len(trials)))
    expected = [{"fast": f, "slow": s} for f in (5, 10, 20) for s in (10, 20, 30) if f < s]
    assert [t[1] for t in trials] == expected
    assert search.total() == len(expected)


def test_random_search_is_deterministic_distinct_and_respects_the_constraint():
    space = SearchSpace.from_mapping({"fast": {"range": [2, 40, 1]}, "slow": {"range": [5, 80, 5]}})
    constraint = compile_constraint("fast * 2 <= slow", space.keys)
    first = list(RandomSearch(space, 50, seed=7, constraint=constraint).trials())
    again = list(RandomSearch(space, 50, seed=7, constraint=constraint).trials())
    other = list(RandomSearch(space, 50, seed=8, constraint=constraint).trials())
    assert first == again
    assert first != other
    assert [i for i, _ in first] == list(range(50))
    keys = {(p["fast"], p["slow"]) for _, p in first}
    assert len(keys) == 50
    assert all(p["fast"] * 2 <= p["slow"] for _, p in first)


def test_random_search_refuses_more_trials_than_points():
    space = SearchSpace.from_mapping({"a": [1, 2, 3]})
    with pytest.raises(ConfigError, match="only 3 points"):
        RandomSearch(space, 4, seed=0)
    impossible = compile_constraint("a > 5", space.keys)
    with pytest.raises(ConfigError, match="relax the constraint"):
        list(RandomSearch(space, 2, seed=0, constraint=impossible, max_draws_per_trial=10).trials())


def test_point_is_computed_without_building_the_grid():
    space = SearchSpace.from_mapping({f"k{i}": list(range(10)) for i in range(12)})  # 10**12 points
    assert space.size == 10**12
    assert space.point(123_456_789_012) == {
        f"k{i}": int(d) for i, d in enumerate(f"{123_456_789_012:012d}")
    }


def test_a_huge_range_is_refused_by_its_count_before_any_value_is_built():
    # `range: [1, 10**12, 1]` used to build a 10**12-tuple (MemoryError traceback).
    with pytest.raises(LimitExceeded, match=r"space\.a\.range: .*999_999_999_999.*GRID_POINTS"):
        SearchSpace.from_mapping({"a": {"range": [1, 10**12, 1]}})
    with pytest.raises(LimitExceeded, match=r"space\.b\.range: .*is 10_000_000_000,"):
        SearchSpace.from_mapping({"b": {"range": [0.0, 1.0, 1e-10]}})
    with pytest.raises(LimitExceeded, match=r"space\.c\.range: .*is over the limit"):
        SearchSpace.from_mapping({"c": {"range": [0.0, 1e308, 1e-308]}})  # count overflows


def test_grid_size_is_a_product_checked_before_the_constraint_runs():
    space = SearchSpace.from_mapping({"a": {"range": [0, 10**5, 1]}, "b": {"range": [0, 10**5, 1]}})
    calls = []

    def counting(params):
        calls.append(params)
        return True

    with pytest.raises(LimitExceeded, match=r"100000 × 100000 grid.*10_000_000_000"):
        GridSearch(space, counting).total()
    assert calls == []
    # Random search over the same space plans only its trials: allowed.
    assert len(list(RandomSearch(space, 5, seed=1).trials())) == 5


def test_the_grid_cap_is_raised_by_its_variable(monkeypatch):
    space = SearchSpace.from_mapping({"a": list(range(30)), "b": list(range(30))})
    monkeypatch.setenv("ISOLOOP_MAX_GRID_POINTS", "800")
    with pytest.raises(LimitExceeded, match="limit of 800"):
        GridSearch(space)
    with pytest.raises(LimitExceeded, match=r"search\.trials.*limit of 800"):
        RandomSearch(space, 850, seed=0)
    monkeypatch.setenv("ISOLOOP_MAX_GRID_POINTS", "900")
    assert GridSearch(space).total() == 900


def test_sweep_config_refuses_an_over_cap_grid_or_trial_count():
    base = {
        "kind": "sweep",
        "base": "run.yaml",
        "objective": {"metric": "sharpe_ratio"},
    }
    big = {"a": {"range": [0, 1000, 1]}, "b": {"range": [0, 1000, 1]}}
    with pytest.raises(LimitExceeded, match=r"1000 × 1000 grid"):
        SweepConfig.model_validate({**base, "space": big, "constraint": "a < b"})
    ok = SweepConfig.model_validate(
        {**base, "space": big, "search": {"method": "random", "trials": 10}}
    )
    assert ok.search.trials == 10
    with pytest.raises(LimitExceeded, match=r"search\.trials"):
        SweepConfig.model_validate(
            {**base, "space": big, "search": {"method": "random", "trials": 300_000}}
        )
