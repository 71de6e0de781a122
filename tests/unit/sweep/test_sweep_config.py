"""The sweep config: the design's example parses; mistakes are reported before any run."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from isoloop.sweep import GridSearch, OptunaSearch, RandomSearch, SweepConfig, build_search

DESIGN_EXAMPLE = """
kind: sweep
base: goog_sma.yaml
space:
  fast: [5, 10, 15, 20, 25]
  slow: {range: [10, 70, 5]}
constraint: fast < slow
objective: {metric: sharpe_ratio, direction: maximize}
search: {method: grid}
executor: {kind: process, workers: 2, trial_timeout: 600, retries: 2}
store: results/goog_sma_sweep.sqlite
"""


def _load(text=DESIGN_EXAMPLE, **changes):
    data = yaml.safe_load(text)
    for key, value in changes.items():
        data[key] = value
    return SweepConfig.model_validate(data)


def test_the_design_example_parses_into_a_grid():
    config = _load()
    search = build_search(config)
    assert isinstance(search, GridSearch)
    expected = [(f, s) for f in (5, 10, 15, 20, 25) for s in range(10, 70, 5) if f < s]
    assert [(p["fast"], p["slow"]) for _, p in search.trials()] == expected
    assert config.executor.kind == "process" and config.executor.trial_timeout == 600
    assert config.executor.memory_limit_mb is None and config.search.batch_size == 8
    with pytest.raises(ValidationError):
        config.store = "elsewhere"  # frozen


def test_random_and_optuna_searches():
    assert isinstance(build_search(_load(search={"method": "random", "trials": 5})), RandomSearch)
    optuna = build_search(
        _load(search={"method": "optuna", "trials": 9, "seed": 3, "sampler": "random"})
    )
    assert isinstance(optuna, OptunaSearch) and optuna.batch_size == 8


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"objective": {"metric": "sharpe"}}, "unknown metric 'sharpe'"),
        ({"search": {"method": "random"}}, "needs search.trials"),
        ({"search": {"method": "grid", "trials": 3}}, "random/optuna only"),
        ({"constraint": "fast.__class__ < 1"}, "dunder name"),
        ({"constraint": "__import__('os')"}, "function calls"),
        ({"constraint": "fats < slow"}, "unknown name 'fats'"),
        ({"space": {"fast": {"range": [1, 5, 0]}}}, "step must be > 0"),
        ({"executor": {"kind": "process", "address": "tcp://x:1"}}, "applies to dask/ray"),
        ({"executor": {"kind": "spark"}}, "executor.kind"),
        ({"executor": {"kind": "process", "workers": 0}}, "executor.workers"),
        ({"stroe": "x.sqlite"}, "stroe"),
        ({"search": {"method": "random", "trials": 1000}}, "exceeds the 60 points"),
    ],
)
def test_mistakes_are_reported_with_the_key(changes, fragment):
    with pytest.raises(ValidationError) as info:
        _load(**changes)
    assert fragment in str(info.value)


def test_walk_forward_settings_and_inline_base():
    config = _load(
        base={"strategy": {"class": "isoloop.examples.sma_cross:SmaCross"}},
        walk_forward={"mode": "anchored", "train_bars": 500, "test_bars": 100},
    )
    assert config.walk_forward is not None and config.walk_forward.step_bars is None
    assert isinstance(config.base, dict)
