"""Credentials, the control API's token and loopback binding, and secrets in files."""

from __future__ import annotations

import json
import pickle
import secrets
import socket
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from isoloop.live import (
    ControlClient,
    ControlError,
    CredentialsError,
    LiveTradingManager,
    VenueCredentials,
    credential_env_name,
)
from support.live_helpers import live_config, state_of, strategy, wait_for

pytestmark = pytest.mark.live

ENDPOINTS = [
    ("GET", "/health"),
    ("GET", "/strategies"),
    ("GET", "/strategies/a"),
    ("POST", "/strategies/a/pause"),
    ("POST", "/strategies/a/resume"),
    ("POST", "/strategies/a/stop"),
    ("POST", "/kill"),
]


def _call(url: str, method: str, path: str, header: str | None) -> int:
    req = urllib.request.Request(
        url + path, data=b"{}" if method == "POST" else None, method=method
    )
    if header is not None:
        req.add_header("Authorization", header)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_credentials_come_from_the_environment_and_never_show() -> None:
    name = credential_env_name("paper", "my-venue", "api_key")
    assert name == "ISOLOOP_PAPER__MY_VENUE__API_KEY"
    with pytest.raises(CredentialsError, match=name):
        VenueCredentials("paper", "my-venue", ["api_key"], env={})
    for placeholder in ("", "changeme", "<your key>", "${API_KEY}", "xxxx", "your-key-here"):
        with pytest.raises(CredentialsError, match="placeholder") as info:
            VenueCredentials("paper", "my-venue", ["api_key"], env={name: placeholder})
        assert name in str(info.value)
    value = secrets.token_hex(12)
    creds = VenueCredentials("paper", "my-venue", ["api_key"], env={name: value})
    assert creds.get("api_key") == value
    assert value not in repr(creds) and value not in str(creds)
    with pytest.raises(TypeError):
        pickle.dumps(creds)


def test_missing_credentials_refuse_that_container_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISOLOOP_PAPER__PAPER__API_KEY", secrets.token_hex(8))
    monkeypatch.delenv("ISOLOOP_PAPER__PAPER__API_SECRET", raising=False)
    cfg = live_config(
        tmp_path,
        [
            strategy("ok", credentials=["api_key"]),
            strategy("nokey", credentials=["api_key", "api_secret"]),
        ],
        bars=60,
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.wait_settled(60)
        st = m.get_state()["strategies"]
    assert st["ok"]["state"] == "running" and st["ok"]["last_bar"] == 59
    assert st["nokey"]["state"] == "failed"
    assert st["nokey"]["restarts"] == 0  # a restart cannot fix a missing credential
    assert "ISOLOOP_PAPER__PAPER__API_SECRET" in st["nokey"]["error"]


def test_live_blueprint_validates_credentials_and_needs_a_broker_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ISOLOOP_LIVE__BROKER__API_KEY", raising=False)
    cfg = live_config(
        tmp_path,
        [
            {**strategy("nocreds", credentials=["api_key"]), "venue": {"name": "broker"}},
        ],
        bars=20,
        environment="live",
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        wait_for(lambda: state_of(m, "nocreds")["state"] == "failed", what="refusal")
        err = state_of(m, "nocreds")["error"]
    assert "CredentialsError" in err and "ISOLOOP_LIVE__BROKER__API_KEY" in err

    value = secrets.token_hex(10)
    monkeypatch.setenv("ISOLOOP_LIVE__BROKER__API_KEY", value)
    with LiveTradingManager(cfg) as m:
        m.start()
        wait_for(lambda: state_of(m, "nocreds")["state"] == "failed", what="refusal")
        err = state_of(m, "nocreds")["error"]
    assert "no broker adapter" in err and "slot 'venue'" in err
    assert value not in err


def _non_loopback_addresses() -> list[str]:
    out = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                out.append(a.address)
    return out


def test_api_requires_the_token_listens_on_loopback_and_leaks_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_urlsafe(24)
    key, secret = secrets.token_hex(16), secrets.token_hex(16)
    monkeypatch.setenv("TEST_LIVE_TOKEN", token)
    monkeypatch.setenv("ISOLOOP_PAPER__PAPER__API_KEY", key)
    monkeypatch.setenv("ISOLOOP_PAPER__PAPER__API_SECRET", secret)
    cfg = live_config(
        tmp_path,
        [
            strategy("a", credentials=["api_key", "api_secret"]),
            strategy("b", credentials=["api_key", "api_secret"]),
        ],
        bars=300,
        api={"enabled": True, "port": 0, "token_env": "TEST_LIVE_TOKEN"},
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.api is not None
        url = m.api.url
        assert m.api.host == "127.0.0.1"
        assert json.loads((tmp_path / "api.json").read_text())["url"] == url
        for method, path in ENDPOINTS:
            assert _call(url, method, path, None) == 401, path
            assert _call(url, method, path, f"Bearer {token[:-1]}") == 401, path
            assert _call(url, method, path, f"Bearer {token}x") == 401, path
            assert _call(url, method, path, f"Basic {token}") == 401, path
        # Refused requests changed nothing.
        assert state_of(m, "a")["state"] == "running"
        assert m.kill_state == "ACTIVE"
        for address in _non_loopback_addresses():
            with pytest.raises(OSError):
                socket.create_connection((address, m.api.port), timeout=2).close()

        client = ControlClient(url, token)
        assert client.health()["status"] == "ok"
        assert set(client.strategies()) == {"a", "b"}
        assert client.action("a", "pause")["state"] == "paused"
        assert client.action("a", "resume")["state"] == "running"
        assert client.kill("HALTED", "b", "api test") == {
            "scope": "b",
            "strategy": "b",
            "state": "HALTED",
        }
        assert state_of(m, "b")["kill_switch"] == "HALTED"
        with pytest.raises(ControlError, match="401"):
            ControlClient(url, "wrong-token-wrong-token").health()
        assert m.wait_settled(60)
        state_text = json.dumps(m.get_state(), default=str)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "paper.sqlite" for p in files)
    assert any(p.suffix == ".jsonl" for p in files)
    for secret_value in (token, key, secret):
        assert secret_value not in state_text
        for path in files:
            assert secret_value.encode() not in path.read_bytes(), path
