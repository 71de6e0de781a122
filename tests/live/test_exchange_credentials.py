"""Exchange keys (`BASIS_{ENV}__CEX__{EXCHANGE}_{SPOT|FUTURES}_{KEY}`): read per environment,
venue and market, never shown, and checked for every strategy before any container starts."""

from __future__ import annotations

import pickle
import secrets
from pathlib import Path
from typing import Any

import pytest

from isoloop.errors import CredentialsError
from isoloop.live import LiveTradingManager
from isoloop.live.config import load_live_config
from isoloop.live.slots.credentials import ExchangeCredentials
from support.exchange_blueprints import paper_blueprint_with_exchange_keys
from support.live_helpers import live_config, strategy

pytestmark = pytest.mark.live

SPOT_KEY = "BASIS_LIVE__CEX__BINANCE_SPOT_API_KEY"
SPOT_SECRET = "BASIS_LIVE__CEX__BINANCE_SPOT_SECRET"


@pytest.fixture
def exchange_blueprint(tmp_path: Path) -> Path:
    return paper_blueprint_with_exchange_keys(tmp_path)


def _cfg(tmp_path: Path, environment: str = "live", **exchange: Any) -> dict[str, Any]:
    s = strategy("basis")
    s["venue"]["exchange"] = {"id": "binance", "market": "spot", **exchange}
    return live_config(tmp_path / "state", [s], bars=20, environment=environment)


def _creds(cfg: dict[str, Any], env: dict[str, str], **args: str) -> ExchangeCredentials:
    return ExchangeCredentials(load_live_config(cfg), "basis", env=env, **args)


def test_keys_are_read_per_environment_venue_and_market(tmp_path: Path) -> None:
    key, secret = secrets.token_hex(16), secrets.token_urlsafe(24)
    live = _creds(_cfg(tmp_path), {SPOT_KEY: key, SPOT_SECRET: secret})
    assert (live.get("api_key"), live.get("secret")) == (key, secret)
    assert live.variables == (SPOT_KEY, SPOT_SECRET)
    # The sandbox reads the TESTNET keys, a perp the FUTURES ones, whatever the environment.
    testnet = {
        "BASIS_TESTNET__CEX__BINANCE_FUTURES_API_KEY": key,
        "BASIS_TESTNET__CEX__BINANCE_FUTURES_SECRET": secret,
    }
    for environment in ("live", "paper"):
        perp = _creds(_cfg(tmp_path, environment, market="perp", sandbox=True), testnet)
        assert perp.variables == tuple(testnet) and perp.get("secret") == secret
    # A two-venue blueprint's perp leg reads the FUTURES keys of a spot config.
    leg = _creds(_cfg(tmp_path, sandbox=True), testnet, leg="perp")
    assert leg.get("api_key") == key
    # OKX signs with a passphrase too.
    okx = {
        f"BASIS_LIVE__CEX__OKX_SPOT_{k}": secrets.token_hex(8)
        for k in ("API_KEY", "SECRET", "PASSPHRASE")
    }
    assert (
        _creds(_cfg(tmp_path, id="okx"), okx).get("passphrase")
        == okx["BASIS_LIVE__CEX__OKX_SPOT_PASSPHRASE"]
    )
    with pytest.raises(CredentialsError, match="BASIS_LIVE__CEX__OKX_SPOT_PASSPHRASE"):
        _creds(_cfg(tmp_path, id="okx"), {k: v for k, v in okx.items() if "PASS" not in k})


def test_values_never_show_and_cannot_be_pickled(tmp_path: Path) -> None:
    key, secret = secrets.token_hex(16), secrets.token_hex(32)
    creds = _creds(_cfg(tmp_path), {SPOT_KEY: key, SPOT_SECRET: secret})
    for shown in (repr(creds), str(creds), f"{creds}"):
        assert key not in shown and secret not in shown
    with pytest.raises(TypeError):
        pickle.dumps(creds)


@pytest.mark.parametrize(
    ("env", "exchange", "args", "names", "absent"),
    [
        ({}, {}, {}, [SPOT_KEY], []),
        ({SPOT_KEY: "k" * 20, SPOT_SECRET: "<your secret>"}, {}, {}, [SPOT_SECRET], []),
        (
            {
                "BASIS_TESTNET__CEX__BINANCE_SPOT_API_KEY": "t" * 20,
                "BASIS_TESTNET__CEX__BINANCE_SPOT_SECRET": "u" * 20,
            },
            {},
            {},
            [SPOT_KEY, "BASIS_TESTNET__CEX__BINANCE_SPOT_API_KEY", "sandbox: true"],
            ["t" * 20],
        ),
        (
            {SPOT_KEY: "k" * 20, SPOT_SECRET: "s" * 20},
            {"id": "bybit"},
            {"exchange": "binance"},
            ["venue.exchange.id is 'bybit'", "bybit_spot"],
            [],
        ),
        (
            {SPOT_KEY: "k" * 20, SPOT_SECRET: "s" * 20},
            {},
            {"market": "perp"},
            ["venue.exchange.market is 'spot'"],
            [],
        ),
    ],
    ids=["missing", "placeholder", "wrong-environment", "other-exchange", "other-market"],
)
def test_refusals_name_the_variable_and_the_fix(
    tmp_path: Path,
    env: dict[str, str],
    exchange: dict[str, Any],
    args: dict[str, str],
    names: list[str],
    absent: list[str],
) -> None:
    with pytest.raises(CredentialsError) as info:
        _creds(_cfg(tmp_path, **exchange), env, **args)
    message = str(info.value)
    assert "\n" not in message
    for name in names:
        assert name in message
    for value in [*absent, *(v for v in env.values() if len(v) > 8)]:
        assert value not in message


def test_paper_on_a_real_endpoint_is_refused(tmp_path: Path) -> None:
    env = {SPOT_KEY: secrets.token_hex(16), SPOT_SECRET: secrets.token_hex(16)}
    with pytest.raises(CredentialsError, match=r"environment: paper .*sandbox: true"):
        _creds(_cfg(tmp_path, "paper"), env)


def test_the_manager_refuses_before_any_container_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange_blueprint: Path
) -> None:
    for name in (SPOT_KEY, SPOT_SECRET):
        monkeypatch.delenv(name, raising=False)
    cfg = _cfg(tmp_path)
    cfg["strategies"][0]["container"] = str(exchange_blueprint)
    cfg["strategies"].append(strategy("plain"))
    with LiveTradingManager(cfg) as m:
        with pytest.raises(CredentialsError, match=SPOT_KEY):
            m.start()
        assert m.get_state()["strategies"] == {}
    # Neither strategy's container was built (each writes its log when it is).
    assert not list((tmp_path / "state" / "logs").iterdir())


def test_the_shipped_testnet_example_validates_with_keys_and_names_each_missing_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from isoloop.validate import validate_config_file

    path = Path(__file__).resolve().parents[2] / "configs/exchanges/basis_binance_testnet.yaml"
    names = [
        f"BASIS_TESTNET__CEX__BINANCE_{leg}_{k}"
        for leg in ("SPOT", "FUTURES")
        for k in ("API_KEY", "SECRET")
    ]
    for name in names:
        monkeypatch.setenv(name, secrets.token_hex(16))
    assert "exchange keys of 2 venue(s) set" in validate_config_file(path)
    # The perp leg of basis_live needs the FUTURES keys.
    monkeypatch.delenv(names[2])
    with pytest.raises(CredentialsError, match=names[2]):
        validate_config_file(path)
