"""`isoloop validate` of a config fed by an exchange's candles: offline, engines checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isoloop.errors import ConfigError
from isoloop.live.validate import validate_live_config_file
from support.exchange_feed_live import plain_engine_blueprint


def _write(tmp: Path, blueprint: str | None) -> Path:
    strategy: dict[str, object] = {
        "name": "sma",
        "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {"fast": 3}},
        "credentials": ["api_key"],
    }
    if blueprint is not None:
        strategy["container"] = blueprint
    cfg = {
        "kind": "live",
        "name": "fed",
        "environment": "paper",
        "state_dir": str(tmp / "state"),
        "feed": {
            "mode": "exchange",
            # Nothing listens on port 9: validate must not ask the exchange anything.
            "exchange": {
                "id": "binance",
                "market": "spot",
                "urls": {"public": "http://127.0.0.1:9/api/v3"},
            },
            "timeframe": "1h",
        },
        "strategies": [strategy],
    }
    path = tmp / "fed.yaml"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    return path


def test_an_exchange_fed_config_validates_offline(tmp_path: Path) -> None:
    summary = validate_live_config_file(_write(tmp_path, None))
    assert summary == (
        "live (paper) of 1 strategies (sma) on an exchange feed of 1h candles from binance spot"
    )


def test_an_engine_that_cannot_take_new_bars_is_refused(tmp_path: Path) -> None:
    plain = plain_engine_blueprint(tmp_path)
    with pytest.raises(ConfigError, match="needs the engine slot"):
        validate_live_config_file(_write(tmp_path, str(plain)))
