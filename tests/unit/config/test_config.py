"""Config loading: YAML 1.2 booleans, dotted overrides, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoloop.config import RunConfig, apply_overrides, load_run_config, parse_set_options
from isoloop.errors import ConfigError

BASE = {
    "strategy": {
        "class": "isoloop.examples.sma_cross:SmaCross",
        "params": {"fast": 10, "slow": 30},
    },
    "data": {"source": "sample:GOOG"},
}


def test_on_is_a_key_not_a_boolean(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "strategy: {class: 'isoloop.examples.sma_cross:SmaCross'}\n"
        "data: {source: 'sample:GOOG'}\nvenue: {fill: {on: close}}\n"
    )
    cfg, base = load_run_config(path)
    assert cfg.venue.fill.on == "close"
    assert base == tmp_path.resolve()


def test_set_values_are_parsed_as_yaml() -> None:
    parsed = parse_set_options(["a.b=12", "c=0.5", "d=close", "e=[1, 2]", "f=true", "g=on"])
    assert parsed == {"a.b": 12, "c": 0.5, "d": "close", "e": [1, 2], "f": True, "g": "on"}
    with pytest.raises(ConfigError, match=r"expected dotted\.key=value"):
        parse_set_options(["novalue"])


def test_overrides_create_sections_and_refuse_to_descend_into_values() -> None:
    out = apply_overrides(BASE, {"venue.fill.on": "close", "strategy.params.fast": 5})
    assert out["venue"] == {"fill": {"on": "close"}}
    assert out["strategy"]["params"]["fast"] == 5
    assert BASE["strategy"]["params"]["fast"] == 10  # the input is not mutated
    with pytest.raises(ConfigError, match=r"'data\.source' is a value, not a section"):
        apply_overrides(BASE, {"data.source.x": 1})


def test_model_and_dict_inputs_give_equal_configs() -> None:
    from_dict, _ = load_run_config(BASE)
    from_model, _ = load_run_config(from_dict)
    assert from_model == from_dict
    changed, _ = load_run_config(from_dict, {"venue.cash": 50_000})
    assert changed.venue.cash == 50_000.0


def test_commission_models_are_selected_by_name() -> None:
    cfg, _ = load_run_config(
        {**BASE, "venue": {"commission": {"model": "per_share", "per_share": 0.01, "minimum": 1}}}
    )
    assert cfg.venue.commission.model == "per_share"  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="tiers must start at 0"):
        load_run_config({**BASE, "venue": {"commission": {"model": "tiered", "tiers": [[5, 0.1]]}}})


def test_json_round_trip_of_a_resolved_config_is_exact() -> None:
    cfg, _ = load_run_config({**BASE, "data": {"source": "sample:GOOG", "start": "2006-01-01"}})
    again = RunConfig.model_validate_json(cfg.model_dump_json(by_alias=True))
    assert again == cfg


def test_kind_sweep_is_refused_by_the_backtest_loader() -> None:
    with pytest.raises(ConfigError, match="use `isoloop sweep`"):
        load_run_config({**BASE, "kind": "sweep"})
