"""Lockstep: a manager started without its replay thread moves its feed one bar at a time
(`step_feed()`, `POST /feed/step`), each call returning once every container processed
that bar; a feed that replays on its own refuses to be stepped."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from isoloop.live import LiveTradingManager
from support.live_helpers import live_config, state_of, strategy


def _post(url: str, token: str) -> tuple[int, Any]:
    req = urllib.request.Request(
        url, method="POST", data=b"", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_feed_steps_one_bar_per_call_and_waits_for_every_container(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_hex(16)
    monkeypatch.setenv("ISOLOOP_LIVE_TOKEN", token)
    monkeypatch.setenv("ISOLOOP_PAPER__PAPER__API_KEY", "paper-key-for-tests-0123")
    cfg = live_config(
        tmp_path / "state",
        [strategy("a"), strategy("b")],
        bars=5,
        api={"enabled": True, "port": 0, "token_env": "ISOLOOP_LIVE_TOKEN"},
    )
    m = LiveTradingManager(cfg)
    m.start(feed=False)
    try:
        assert m.api is not None
        assert m.step_feed() == 0
        # Returned only once both containers were through bar 0.
        assert [state_of(m, n)["last_bar"] for n in ("a", "b")] == [0, 0]
        steps = [_post(f"{m.api.url}/feed/step", token) for _ in range(5)]
        assert steps[:4] == [(200, {"bar": i}) for i in range(1, 5)]
        assert steps[4] == (200, {"bar": None})  # the feed is through
        assert [state_of(m, n)["last_bar"] for n in ("a", "b")] == [4, 4]
    finally:
        m.shutdown()

    running = LiveTradingManager(live_config(tmp_path / "state2", [strategy("c")], bars=5))
    running.start(api=False)
    try:
        with pytest.raises(Exception, match="replays on its own"):
            running.step_feed()
    finally:
        running.shutdown()
