"""`isoloop validate` and `isoloop live` refuse missing, placeholder and wrong-environment exchange
keys with one `error:` line naming each variable, before any container; no output holds a secret."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml

from isoloop.live import LiveTradingManager
from support.cli_run import TESTS, one_error_line, run_cli
from support.exchange_blueprints import paper_blueprint_with_exchange_keys
from support.live_helpers import live_config, state_of, strategy

pytestmark = pytest.mark.live


def _env(keys: dict[str, str]) -> dict[str, str]:
    """This environment without any `BASIS_` variable (none may lend a key), plus `keys`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASIS_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), env.get("PYTHONPATH")) if p)
    return {**env, **keys}


def _config(tmp_path: Path, exchanges: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One exchange strategy per entry (on the paper venue, exchange keys in its slot) and a
    paper strategy without exchange keys."""
    blueprint = paper_blueprint_with_exchange_keys(tmp_path)
    strategies = []
    for name, exchange in exchanges.items():
        s = strategy(name, container=str(blueprint))
        s["venue"]["exchange"] = exchange
        strategies.append(s)
    strategies.append(strategy("plain"))
    return live_config(tmp_path / "state", strategies, bars=30, environment="live")


def _everything_written(folder: Path, *outputs: str) -> str:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return "\n".join([*outputs, *(p.read_bytes().decode("utf-8", "replace") for p in files)])


def test_missing_placeholder_and_wrong_environment_keys_stop_validate_and_live(
    tmp_path: Path,
) -> None:
    fakes = {
        # binance spot: nothing set. binance perp: the secret is a placeholder.
        "BASIS_LIVE__CEX__BINANCE_FUTURES_API_KEY": secrets.token_hex(24),
        "BASIS_LIVE__CEX__BINANCE_FUTURES_SECRET": "your_secret_here",
        # bybit spot: only the testnet's keys.
        "BASIS_TESTNET__CEX__BYBIT_SPOT_API_KEY": secrets.token_hex(24),
        "BASIS_TESTNET__CEX__BYBIT_SPOT_SECRET": secrets.token_hex(24),
    }
    cfg = _config(
        tmp_path,
        {
            "missing": {"id": "binance", "market": "spot"},
            "placeholder": {"id": "binance", "market": "perp"},
            "wrong_env": {"id": "bybit", "market": "spot"},
        },
    )
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    outputs: list[str] = []
    for command in (["validate", str(path)], ["live", str(path), "--json", "--for", "60"]):
        done = run_cli(*command, cwd=tmp_path, env=_env(fakes), timeout=180)
        line = one_error_line(done)
        outputs += [done.stdout, done.stderr]
        for expected in (
            "strategy 'missing': binance spot credential BASIS_LIVE__CEX__BINANCE_SPOT_API_KEY "
            "is not set",
            "strategy 'placeholder': BASIS_LIVE__CEX__BINANCE_FUTURES_SECRET still holds a "
            "placeholder value",
            "strategy 'wrong_env': BASIS_LIVE__CEX__BYBIT_SPOT_API_KEY is not set, only "
            "BASIS_TESTNET__CEX__BYBIT_SPOT_API_KEY",
            "venue.exchange.sandbox: true",
        ):
            assert expected in line, line
        assert "'plain'" not in line
    # `isoloop live` stopped before any container was built (each writes its log first).
    logs = tmp_path / "state" / "logs"
    assert not logs.exists() or not list(logs.iterdir())
    written = _everything_written(tmp_path, *outputs)
    for value in fakes.values():
        assert value == "your_secret_here" or value not in written


def test_valid_keys_run_and_no_output_holds_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes = {
        "BASIS_TESTNET__CEX__BINANCE_SPOT_API_KEY": secrets.token_hex(24),
        "BASIS_TESTNET__CEX__BINANCE_SPOT_SECRET": secrets.token_urlsafe(32),
    }
    for name, value in fakes.items():
        monkeypatch.setenv(name, value)
    cfg = _config(tmp_path, {"keyed": {"id": "binance", "market": "spot", "sandbox": True}})
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.wait_settled(60)
        keyed = state_of(m, "keyed")
        assert keyed["state"] == "running" and keyed["last_bar"] == 29, keyed
    written = _everything_written(tmp_path)
    assert "keyed" in written
    for value in fakes.values():
        assert value not in written
