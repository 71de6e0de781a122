"""`isoloop live`: running a config, client actions against the API, and bad input."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
import yaml

from isoloop.cli import main
from isoloop.live import LiveTradingManager
from support.live_helpers import live_config, state_of, strategy

pytestmark = pytest.mark.live

REPO = Path(__file__).resolve().parents[2]


def test_run_prints_one_json_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "live.yaml"
    cfg.write_text(
        yaml.safe_dump(live_config(tmp_path / "state", [strategy("x"), strategy("y")], bars=80))
    )
    assert main(["live", str(cfg), "--json", "--for", "60"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"strategies"}
    for name in ("x", "y"):
        assert set(out["strategies"][name]) == {
            "state",
            "ticks",
            "orders",
            "fills",
            "restarts",
            "errors",
        }
        assert out["strategies"][name]["state"] == "stopped"
        assert out["strategies"][name]["fills"] > 0


def test_client_actions_talk_to_the_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = secrets.token_hex(16)
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    cfg = live_config(
        tmp_path / "state",
        [strategy("x"), strategy("y")],
        bars=50,
        api={"enabled": True, "port": 0, "token_env": None, "token_file": str(token_file)},
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.api is not None
        assert m.container("x").wait_ready(30)
        base = ["--url", m.api.url, "--token-file", str(token_file)]
        assert main(["live", "pause", "x", *base]) == 0
        assert json.loads(capsys.readouterr().out)["state"] == "paused"
        assert state_of(m, "x")["state"] == "paused"
        assert main(["live", "resume", "x", *base]) == 0
        assert state_of(m, "x")["state"] == "running"
        capsys.readouterr()
        assert main(["live", "status", "--json", *base]) == 0
        status = json.loads(capsys.readouterr().out)
        assert set(status["strategies"]) == {"x", "y"} and status["health"]["status"] == "ok"
        assert main(["live", "kill", *base, "--state", "REDUCING", "--reason", "cli test"]) == 0
        assert m.kill_state == "REDUCING"
        assert main(["live", "stop", "y", *base]) == 0
        assert state_of(m, "y")["state"] == "stopped"
        capsys.readouterr()
        bad = tmp_path / "bad-token"
        bad.write_text("not-the-token-at-all")
        assert main(["live", "status", "--url", m.api.url, "--token-file", str(bad)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:") and "401" in err[0]
        assert token not in err[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["live", "missing.yaml"], "file not found"),
        (["live", "pause"], "give the strategy name"),
        (["live", "kill", "--state", "PANIC", "--token-file", "{token}"], "--state"),
        (["live", str(REPO / "configs" / "goog_sma.yaml")], "kind: live"),
        (["live", str(REPO / "configs" / "paper_three.yaml"), "extra"], "unexpected argument"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    token_file = tmp_path / "t"
    token_file.write_text(secrets.token_hex(16))
    args = [a.replace("{token}", str(token_file)) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and needle in err[0]


def test_example_config_is_valid() -> None:
    from isoloop.live import load_live_config

    cfg = load_live_config(REPO / "configs" / "paper_three.yaml")
    assert [s.name for s in cfg.strategies] == ["fast", "medium", "slow"]
    assert cfg.feed.source == "sample:EURUSD" and cfg.feed.mode == "replay"


def test_validate_live_config_file() -> None:
    from isoloop.live import validate_live_config_file

    summary = validate_live_config_file(REPO / "configs" / "paper_three.yaml")
    assert summary.startswith("live (paper) of 3 strategies (fast, medium, slow)")


def test_busy_api_port_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    monkeypatch.setenv("TEST_LIVE_TOKEN", secrets.token_hex(16))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = tmp_path / "live.yaml"
        data = live_config(
            tmp_path / "state",
            [strategy("x")],
            bars=20,
            api={"enabled": True, "port": port, "token_env": "TEST_LIVE_TOKEN"},
        )
        cfg.write_text(yaml.safe_dump(data))
        assert main(["live", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "api.port" in err[0] and str(port) in err[0]


def test_missing_api_token_refuses_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_LIVE_TOKEN", raising=False)
    cfg = tmp_path / "live.yaml"
    data = live_config(
        tmp_path / "state",
        [strategy("x")],
        bars=20,
        api={"enabled": True, "port": 0, "token_env": "TEST_LIVE_TOKEN"},
    )
    cfg.write_text(yaml.safe_dump(data))
    assert main(["live", str(cfg)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "TEST_LIVE_TOKEN" in err
    assert not (tmp_path / "state" / "paper.sqlite").exists()
