"""A failed backtest keeps its evidence: a published run folder, its events, its stack trace.

The EXEC-005 failure is real: a blueprint whose simulated venue settles cash
1,000 s (of the run's clock) after a fill, so the books and the venue's account
never agree within the tight loop's retries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from isoloop.backtest.run import run_backtest
from isoloop.engine.strategy import Strategy
from isoloop.errors import ConfigError
from isoloop.results.digest import file_sha256
from support.cli_run import run_isoloop

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
GOOG_CFG = ROOT / "configs" / "goog_sma.yaml"


def lagging_blueprint(folder: Path) -> Path:
    text = (ROOT / "containers" / "backtest.yaml").read_text(encoding="utf-8")
    old = 'args: {settings: "@config.venue"}'
    assert old in text
    path = folder / "lagging.yaml"
    path.write_text(
        text.replace("name: backtest", "name: lagging").replace(
            old, 'args: {settings: "@config.venue", settlement_delay: 1000.0}'
        ),
        encoding="utf-8",
    )
    return path


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_exec_005_through_the_cli_publishes_a_failed_run_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    blueprint = lagging_blueprint(tmp_path)
    done = run_isoloop(
        "backtest", str(GOOG_CFG), "--set", f"container={blueprint}", "--out", str(out), "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "EXEC-005" in lines[0] and "Traceback" not in done.stderr

    # One folder, named like a successful run's, and no staging folder left behind.
    folders = list(out.iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("goog_sma-"), folders
    run_dir = folders[0]
    assert str(run_dir) in lines[0]  # the error line names the evidence

    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"
    assert manifest["mode"] == "BACKTEST_SINGLE"
    assert "digest" not in manifest and "stats" not in manifest
    error = manifest["error"]
    assert set(error) == {"code", "severity", "component", "operation", "message", "traceback"}
    assert error["code"] == "EXEC-005" and error["severity"] == "CRITICAL"
    assert error["component"] == "execution"
    assert "reconcil" in error["operation"]
    assert "Traceback (most recent call last)" in error["traceback"]
    assert "ReconciliationError" in error["traceback"]
    assert "process_bar" in error["traceback"]  # the engine's frames, not just the CLI's

    # The events up to the failure, then the error event as the last line.
    events = read_events(run_dir)
    names = [e["event"] for e in events]
    assert names.index("backtest_started") < names.index("reconciliation_failed")
    assert "execution_handshake" in names and "reconciliation_mismatch" in names
    for slot in ("venue", "execution", "strategy"):
        assert {"event": "component_started", "slot": slot}.items() <= next(
            e for e in events if e["event"] == "component_started" and e["slot"] == slot
        ).items()
    assert events[-1]["event"] == "run_error"
    assert {k: events[-1][k] for k in error} == error
    # Every error event carries the same fields.
    for event in (e for e in events if e["level"] == "error" and e["event"] != "run_error"):
        if event["event"] == "reconciliation_failed":
            continue  # the engine's own record of the retries (H1's), not an error event
        assert event["code"] == "EXEC-005" and event["traceback"], event["event"]
    assert (run_dir / "events.csv").is_file()

    # Each file is hashed in the manifest, as for a successful run.
    for name, recorded in manifest["files"].items():
        assert file_sha256(run_dir / name)[0] == recorded["sha256"], name

    # `verify` says it is a failed run, that the failure reproduces, and exits 1.
    checked = run_isoloop("verify", str(run_dir), cwd=tmp_path)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "failed run" in checked.stdout and "EXEC-005" in checked.stdout
    assert "re-run fails the same way" in checked.stdout


class Explodes(Strategy):
    def init(self) -> None:
        pass

    def on_bar(self, i: int) -> None:
        if i == 40:
            raise ValueError("strategy blew up on purpose")


def test_a_strategy_exception_names_the_strategy_and_keeps_its_type(tmp_path: Path) -> None:
    cfg = {
        "name": "explodes",
        "strategy": {"class": f"{__name__}:Explodes"},
        "data": {"source": "synthetic:gbm?bars=200&seed=3"},
    }
    with pytest.raises(ValueError, match="strategy blew up on purpose") as info:
        run_backtest(cfg, out=tmp_path, report=False)
    (run_dir,) = tmp_path.iterdir()
    assert str(run_dir) in str(info.value)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"
    error = manifest["error"]
    assert error["code"] is None and error["severity"] == "CRITICAL"
    assert (error["component"], error["operation"]) == ("strategy", "on_bar")
    assert error["message"] == "ValueError: strategy blew up on purpose"
    assert "raise ValueError" in error["traceback"]
    assert read_events(run_dir)[-1]["event"] == "run_error"


def test_bad_input_publishes_no_folder(tmp_path: Path) -> None:
    # A strategy parameter it does not take: input to fix (exit 2), not a failed run.
    with pytest.raises(ConfigError, match="nope"):
        run_backtest(GOOG_CFG, out=tmp_path, report=False, **{"strategy.params.nope": 1})
    assert list(tmp_path.iterdir()) == []


def test_a_successful_manifest_says_ok_and_keeps_its_digest(tmp_path: Path) -> None:
    plain = run_backtest(GOOG_CFG, out=tmp_path / "a", report=False)
    assert plain.run_dir is not None
    manifest = json.loads((plain.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok" and manifest["mode"] == "BACKTEST_SINGLE"
    assert "error" not in manifest
    assert manifest["digest"] == plain.digest
    assert "observability" not in manifest["config"]  # a default setting is not dumped
