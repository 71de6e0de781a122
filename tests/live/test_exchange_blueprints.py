"""The shipped exchange blueprints (binance/bybit/okx spot and perp, basis_live): they show,
play the live roles and hold the keys of their own exchange and market; basis_live's legs
sign with their own keys. (basis_live trading on the loopback exchange:
tests/live/exchange/test_ccxt_basis.py.)"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml

from isoloop.cli import main
from isoloop.config.models import RunConfig
from isoloop.engine.roles import LIVE_ROLES
from isoloop.errors import CredentialsError
from isoloop.live.config import load_live_config
from isoloop.live.preflight import check_exchange_credentials
from isoloop.live.slots.broker import EXCHANGE_BLUEPRINTS
from isoloop.scope import load_blueprint
from support.live_helpers import live_config, strategy

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
SINGLE = [f"{ex}_{m}" for ex in ("binance", "bybit", "okx") for m in ("spot", "perp")]
CREDENTIALS = "isoloop.live.slots.credentials:ExchangeCredentials"


def _slots(name: str) -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "containers" / f"{name}.yaml").read_text(encoding="utf-8"))
    slots: dict[str, Any] = raw["slots"]
    return slots


def test_the_exchange_blueprints_are_the_ones_the_live_refusal_names() -> None:
    holding_keys = sorted(
        p.stem
        for p in (ROOT / "containers").glob("*.yaml")
        if CREDENTIALS in p.read_text(encoding="utf-8")
    )
    assert holding_keys == sorted(EXCHANGE_BLUEPRINTS) == sorted([*SINGLE, "basis_live"])


@pytest.mark.parametrize("name", [*SINGLE, "basis_live"])
def test_each_shows_and_plays_the_live_roles(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["blueprint", "show", name]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.startswith(f"blueprint {name} (")
    assert "isoloop.venues.ccxt.venue:CcxtVenue" in out
    cfg = RunConfig.model_validate(
        {"strategy": {"class": "isoloop.examples.basis:BasisTrade"}, "data": {"source": "x:y"}}
    )
    bp = load_blueprint(ROOT / "containers" / f"{name}.yaml")
    plans = bp.check(cfg, roles=LIVE_ROLES, shared=("market_data", "live", "router"))
    needs = {p.name: dict(p.slot_params) for p in plans}
    assert needs["venue"]["credentials"] == "credentials"
    if name == "basis_live":
        # Each leg signs with its own slot's keys (SPOT and FUTURES are separate keys).
        assert needs["hedge_venue"]["hedge_credentials"] == "hedge_credentials"
        assert "credentials" not in needs["hedge_venue"]
        assert set(needs["venues"]) == {"venue", "hedge_venue"}
    else:
        exchange, market = name.split("_")
        assert _slots(name)["credentials"]["args"] == {"exchange": exchange, "market": market}


def _keys(env: str, exchange: str, leg: str) -> dict[str, str]:
    names = ["API_KEY", "SECRET", *(["PASSPHRASE"] if exchange == "okx" else [])]
    return {f"BASIS_{env}__CEX__{exchange.upper()}_{leg}_{k}": secrets.token_hex(16) for k in names}


def test_a_blueprint_refuses_another_exchange_or_market_and_basis_needs_both_legs(
    tmp_path: Path,
) -> None:
    def cfg(container: str, **exchange: Any) -> Any:
        s = strategy("s", container=container)
        s["venue"]["exchange"] = {"id": "okx", "market": "perp", "sandbox": True, **exchange}
        return load_live_config(live_config(tmp_path / "state", [s], environment="live"))

    okx_perp = _keys("TESTNET", "okx", "FUTURES")
    assert check_exchange_credentials(cfg("okx_perp"), env=okx_perp) == 1
    with pytest.raises(CredentialsError, match=r"blueprint \(okx_spot\) is for 'spot'.*okx_perp"):
        check_exchange_credentials(cfg("okx_spot"), env=okx_perp)
    with pytest.raises(CredentialsError, match=r"venue\.exchange\.id is 'okx'.*\(bybit_perp\)"):
        check_exchange_credentials(cfg("bybit_perp"), env=okx_perp)
    # basis_live: the spot leg's keys and the perp leg's, whatever venue.exchange.market says.
    both = {**_keys("TESTNET", "binance", "SPOT"), **_keys("TESTNET", "binance", "FUTURES")}
    basis = cfg("basis_live", id="binance", market="spot")
    assert check_exchange_credentials(basis, env=both) == 2
    spot_only = {k: v for k, v in both.items() if "_SPOT_" in k}
    with pytest.raises(CredentialsError, match="BASIS_TESTNET__CEX__BINANCE_FUTURES_API_KEY"):
        check_exchange_credentials(basis, env=spot_only)
