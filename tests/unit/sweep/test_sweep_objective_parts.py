"""Objectives (stats keys, functions, several: a Pareto front) and grid `max_tries` sampling."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from isoloop.errors import ConfigError
from isoloop.results.metrics import STATS_KEYS
from isoloop.sweep import GridSearch, SearchSpace, compile_constraint
from isoloop.sweep.config import SweepConfig, build_search
from isoloop.sweep.objective import (
    Objective,
    evaluate_functions,
    function_ref,
    objective_values,
    pareto_front,
)

MAX = Objective("a", "maximize")
MIN = Objective("b", "minimize")


def sharpe_per_drawdown(stats: dict[str, float]) -> float:
    """A module-level objective (importable as tests' `module:function`)."""
    return stats["sharpe_ratio"] / max(1.0, abs(stats["max_drawdown_pct"]))


def _dominates(p: tuple[float, ...], q: tuple[float, ...], objs: list[Objective]) -> bool:
    signed = [(o.sign() * a, o.sign() * b) for o, a, b in zip(objs, p, q, strict=True)]
    return all(a >= b for a, b in signed) and any(a > b for a, b in signed)


@settings(max_examples=200, deadline=None)
@given(
    hs.lists(
        hs.tuples(hs.integers(-3, 3).map(float), hs.integers(-3, 3).map(float)),
        max_size=25,
    )
)
def test_pareto_front_is_exactly_the_non_dominated_trials(points: list[tuple[float, ...]]) -> None:
    objs = [MAX, MIN]
    entries = list(enumerate(points))
    expected = [
        i for i, p in entries if not any(_dominates(q, p, objs) for j, q in entries if j != i)
    ]
    assert pareto_front(reversed(entries), objs) == expected  # sorted by id, any input order


@settings(max_examples=200, deadline=None)
@given(
    hs.lists(
        hs.tuples(*(hs.integers(-2, 2).map(float) for _ in range(3))),
        max_size=25,
    )
)
def test_pareto_front_of_three_objectives(points: list[tuple[float, ...]]) -> None:
    objs = [MAX, MIN, Objective("c", "maximize")]
    entries = list(enumerate(points))
    expected = [
        i for i, p in entries if not any(_dominates(q, p, objs) for j, q in entries if j != i)
    ]
    assert pareto_front(entries, objs) == expected


def test_one_objective_front_is_every_trial_tied_at_the_best() -> None:
    entries = [(0, (1.0,)), (1, (3.0,)), (2, (3.0,)), (3, (2.0,))]
    assert pareto_front(entries, [MAX]) == [1, 2]
    assert pareto_front(entries, [Objective("a", "minimize")]) == [0]


def test_a_failed_or_undefined_trial_has_no_objective_values() -> None:
    objs = [Objective("sharpe_ratio"), Objective("sqn")]
    assert objective_values(objs, {"sharpe_ratio": 1.0, "sqn": 2.0}, "ok") == (1.0, 2.0)
    assert objective_values(objs, {"sharpe_ratio": 1.0, "sqn": math.nan}, "ok") is None
    assert objective_values(objs, {"sharpe_ratio": 1.0}, "ok") is None
    assert objective_values(objs, {"sharpe_ratio": 1.0, "sqn": 2.0}, "error") is None


def _space() -> SearchSpace:
    return SearchSpace.from_mapping({"fast": list(range(2, 22)), "slow": list(range(10, 60, 2))})


def test_max_tries_samples_distinct_grid_points_that_keep_their_grid_ids() -> None:
    space = _space()
    constraint = compile_constraint("fast < slow", {"fast": None, "slow": None})
    full = dict(GridSearch(space, constraint).trials())
    sample = list(GridSearch(space, constraint, max_tries=37, seed=7).trials())
    assert len(sample) == 37 == GridSearch(space, constraint, max_tries=37, seed=7).total()
    assert len({i for i, _ in sample}) == 37
    assert all(full[i] == params for i, params in sample)  # the grid's own id for each point
    again = list(GridSearch(space, constraint, max_tries=37, seed=7).trials())
    other = list(GridSearch(space, constraint, max_tries=37, seed=8).trials())
    assert again == sample and other != sample


def test_max_tries_as_a_fraction_and_beyond_the_grid() -> None:
    space = _space()  # 20 x 25 = 500 points
    assert GridSearch(space, max_tries=0.1).total() == 50
    assert GridSearch(space, max_tries=0.0001).total() == 1  # at least one
    assert GridSearch(space, max_tries=1.0).total() == 500
    assert [i for i, _ in GridSearch(space, max_tries=10_000).trials()] == list(range(500))


def _cfg(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "kind": "sweep",
        "base": {"data": {"source": "sample:GOOG"}},
        "space": {"fast": [5, 10], "slow": [20, 30]},
        "objective": {"metric": "sharpe_ratio"},
    }
    raw.update(over)
    return raw


def test_config_objectives_and_sampled_grid() -> None:
    cfg = SweepConfig.model_validate(
        _cfg(
            objective=None,
            objectives=[
                {"key": "sharpe_ratio", "direction": "maximize"},
                {"key": "max_drawdown_pct", "direction": "maximize"},
                {"function": f"{__name__}:sharpe_per_drawdown", "name": "calm"},
            ],
            search={"method": "grid", "max_tries": 3, "seed": 1},
        )
    )
    assert [(o.name, o.direction, o.function) for o in cfg.objective_list()] == [
        ("sharpe_ratio", "maximize", None),
        ("max_drawdown_pct", "maximize", None),
        ("calm", "maximize", f"{__name__}:sharpe_per_drawdown"),
    ]
    search = build_search(cfg)
    assert isinstance(search, GridSearch) and search.total() == 3


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"objective": {"metric": "sharpe"}}, "unknown metric 'sharpe'"),
        ({"objective": {"key": "sharpe"}}, "unknown metric 'sharpe'"),
        ({"objective": {"function": "nocolon"}}, "'nocolon'"),
        ({"objective": {"metric": "sqn", "function": "m:f"}}, "exactly one of metric"),
        ({"objective": {"function": "m:f", "name": "sqn"}}, "not a stats key"),
        ({"objective": {"function": "m:sqn"}}, "named like a stats key"),
        ({"objectives": [{"key": "sqn"}]}, "not both or neither"),
        ({"objective": None}, "not both or neither"),
        ({"objective": None, "objectives": [{"key": "sqn"}, {"key": "sqn"}]}, "sqn twice"),
        ({"search": {"method": "random", "trials": 2, "max_tries": 2}}, "max_tries applies"),
        ({"search": {"method": "grid", "max_tries": 1.5}}, "max_tries"),
        ({"search": {"method": "grid", "trials": 3}}, "use search.max_tries"),
        ({"space": {"data.source": [1, 2]}}, "list of data sources"),
        (
            {
                "space": {"data.source": ["sample:GOOG"]},
                "walk_forward": {"train_bars": 100, "test_bars": 50},
            },
            "cannot sweep space.data.source",
        ),
    ],
)
def test_bad_objectives_and_searches_name_the_key(over: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        SweepConfig.model_validate(_cfg(**over))
    assert needle in str(info.value)


def test_metric_objective_keeps_the_sweep_key_it_always_had() -> None:
    """A store written before function objectives existed resumes (same definition)."""
    cfg = SweepConfig.model_validate(_cfg())
    assert cfg.objective_definition() == {
        "objective": {"metric": "sharpe_ratio", "direction": "maximize"}
    }
    assert "max_tries" not in cfg.search.definition()


def test_a_lambda_or_a_nested_function_is_refused_with_the_reason() -> None:
    def nested(stats: dict[str, float]) -> float:
        return 0.0

    for fn in (lambda stats: 0.0, nested):
        with pytest.raises(ConfigError, match="trials may run in other processes"):
            function_ref(fn, where="optimize")
    assert function_ref(sharpe_per_drawdown, where="x") == f"{__name__}:sharpe_per_drawdown"


def test_an_objective_function_must_return_a_finite_number() -> None:
    ref = f"{__name__}:sharpe_per_drawdown"
    stats = dict.fromkeys(STATS_KEYS, 1.0)
    assert evaluate_functions([("calm", ref)], stats) == {"calm": 1.0}
    with pytest.raises(ValueError, match="not a finite number"):
        evaluate_functions([("calm", ref)], {**stats, "sharpe_ratio": math.inf})
