"""A trial's config from the worker's `BaseConfigText` is the config (and the error) the
plain route gives: the same JSON text, validated the same way, owned by the trial alone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from isoloop.config import RunConfig, apply_overrides, load_run_config
from isoloop.sweep.loading import trial_overrides
from isoloop.sweep.spec import TrialSpec
from isoloop.sweep.trial import BaseConfigText, TrialBase

BASE: dict[str, Any] = {
    "strategy": {
        "class": "isoloop.examples.sma_cross:SmaCross",
        "params": {"fast": 10, "levels": [1, 2]},
    },
    "data": {"source": "sample:GOOG", "start": "2005-01-03", "end": "2010-06-30"},
    "venue": {
        "cash": 10_000,
        "commission": {"model": "tiered", "tiers": [[0, 0.01], [5e4, 0.005]]},
    },
    "risk": {"trading_hours": ["09:30", "16:00"], "max_position": 50},
    "seed": 7,
}


def reference(base: TrialBase, spec: TrialSpec) -> str:
    """The text every trial's config was validated from before `BaseConfigText`."""
    raw = json.loads(base.run_config_json)
    overrides = trial_overrides(spec.params)
    touched = {key.split(".", 1)[0] for key in overrides}
    raw = {**raw, **apply_overrides({k: raw[k] for k in touched if k in raw}, overrides)}
    raw["seed"] = spec.seed
    return json.dumps(raw)


SPECS = [
    TrialSpec(1, {"fast": 5, "slow": 20}, 12345),
    TrialSpec(2, {}, 0),
    TrialSpec(3, {"fast": 5.5, "levels": [3, None, "x", True]}, 2**32 - 1),
    TrialSpec(4, {"venue.cash": 5_000.0, "fast": 7}, 99),
    TrialSpec(5, {"venue.commission": 0.001, "risk.max_position": 10}, 1),
    TrialSpec(6, {"name": "run-a", "strategy.params.slow": 30}, 2),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: str(s.trial_id))
def test_the_same_text_and_the_same_config_as_the_plain_route(spec: TrialSpec) -> None:
    cfg, _ = load_run_config(BASE)
    base = TrialBase.of(cfg, {})
    text = BaseConfigText(base.run_config_json)
    expected_text = reference(base, spec)
    expected = RunConfig.model_validate_json(expected_text)
    for parsed in (text, json.loads(base.run_config_json), None):
        got = base.trial_config(spec, parsed)
        assert got == expected
        assert got.model_fields_set == expected.model_fields_set
        assert got.model_dump(mode="json", by_alias=True) == expected.model_dump(
            mode="json", by_alias=True
        )
    # The text validated is the very text `json.dumps` writes (so every normalisation
    # pydantic applies to it, and every error it raises, is unchanged).
    raw = json.loads(expected_text)
    assert text.encode(raw) == expected_text == json.dumps(raw)
    assert text.encode({**text.parsed, "seed": spec.seed}) == json.dumps(
        {**text.parsed, "seed": spec.seed}
    )


@pytest.mark.parametrize(
    "params",
    [
        {"fast": {"nested": 1}},  # not a scalar or a list of scalars
        {"venue.cash": -1.0},
        {"venue.cash": "10"},  # strict: no numbers from strings
        {"risk.nope": 1},  # an unknown key
    ],
)
def test_a_bad_parameter_gives_the_same_error(params: dict[str, Any]) -> None:
    cfg, _ = load_run_config(BASE)
    base = TrialBase.of(cfg, {})
    spec = TrialSpec(9, params, 3)
    with pytest.raises(ValidationError) as plain:
        RunConfig.model_validate_json(reference(base, spec))
    with pytest.raises(ValidationError) as fast:
        base.trial_config(spec, BaseConfigText(base.run_config_json))
    assert str(fast.value) == str(plain.value)
    assert fast.value.errors() == plain.value.errors()


def test_a_value_json_cannot_write_fails_as_before() -> None:
    cfg, _ = load_run_config(BASE)
    base = TrialBase.of(cfg, {})
    spec = TrialSpec(9, {"fast": object()}, 3)
    with pytest.raises(TypeError, match="is not JSON serializable"):
        base.trial_config(spec, BaseConfigText(base.run_config_json))


def test_trials_own_their_configs_and_never_change_the_base() -> None:
    cfg, _ = load_run_config(BASE)
    base = TrialBase.of(cfg, {})
    text = BaseConfigText(base.run_config_json)
    before = json.dumps(text.parsed)
    a = base.trial_config(TrialSpec(1, {"fast": 5, "levels": [9]}, 1), text)
    b = base.trial_config(TrialSpec(2, {"fast": 6}, 2), text)
    assert json.dumps(text.parsed) == before
    assert a.strategy.params == {"fast": 5, "levels": [9]}
    assert b.strategy.params == {"fast": 6, "levels": [1, 2]}
    for section in ("strategy", "venue", "risk", "execution", "data"):
        assert getattr(a, section) is not getattr(b, section)
    assert a.strategy.params["levels"] is not b.strategy.params["levels"]
    assert a.risk.trading_hours == b.risk.trading_hours == cfg.risk.trading_hours
    assert (a.seed, b.seed) == (1, 2)
