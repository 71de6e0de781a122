"""Placeholder credentials (`0x…`, `your_…`, `changeme`, empty …) refuse the container at init."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from isoloop.errors import CredentialsError
from isoloop.live import LiveTradingManager
from isoloop.live.slots.credentials import VenueCredentials
from support.live_helpers import live_config, state_of, strategy, wait_for

pytestmark = pytest.mark.live

VAR = "ISOLOOP_PAPER__PAPER__API_KEY"
PLACEHOLDERS = (
    "0x...",
    "0x…",
    "0x",
    "0x0000000000000000",
    "0xYOUR_PRIVATE_KEY",
    "your_api_key_here",
    "YOUR-SECRET",
    "changeme",
    "CHANGE_ME",
    "replace_me",
    "sk-...",
    "",
    "   ",
)


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholder_values_are_refused_naming_the_variable_only(value: str) -> None:
    with pytest.raises(CredentialsError, match="placeholder") as info:
        VenueCredentials("paper", "paper", ["api_key"], env={VAR: value})
    message = str(info.value)
    assert VAR in message
    if value.strip():
        assert value.strip() not in message


# Drawn in the test, not at collection: xdist workers must collect the same ids.
@pytest.mark.parametrize(
    "make",
    [lambda: "0x" + secrets.token_hex(32), lambda: secrets.token_urlsafe(24)],
    ids=["hex", "urlsafe"],
)
def test_real_looking_values_pass(make: Callable[[], str]) -> None:
    value = make()
    creds = VenueCredentials("paper", "paper", ["api_key"], env={VAR: value})
    assert creds.get("api_key") == value


def test_a_container_with_a_placeholder_key_fails_at_init_and_is_not_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VAR, "0x...")
    cfg = live_config(
        tmp_path,
        [strategy("keyed", credentials=["api_key"]), strategy("plain")],
        bars=40,
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        wait_for(lambda: state_of(m, "keyed")["state"] == "failed", what="the refusal")
        assert m.wait_settled(60)
        keyed, plain = state_of(m, "keyed"), state_of(m, "plain")
    assert "CredentialsError" in keyed["error"] and VAR in keyed["error"]
    assert "placeholder" in keyed["error"] and "0x..." not in keyed["error"]
    assert keyed["restarts"] == 0
    assert plain["state"] == "running" and plain["last_bar"] == 39
