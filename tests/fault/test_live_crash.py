"""A manager process SIGKILLed mid-replay restarts without losing or repeating anything."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from isoloop.live import LiveTradingManager
from support.live_helpers import FAST_SPEED, events, live_config, rows, strategy, wait_for

pytestmark = pytest.mark.live

TESTS = Path(__file__).resolve().parents[1]
NAMES = ["fast", "slow"]


def _write_config(path: Path, state_dir: Path) -> Path:
    cfg = live_config(
        state_dir,
        [strategy("fast"), strategy("slow", params={"fast": 10, "slow": 40})],
        bars=800,
        feed={"speed": 3600 * 2000},
    )
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def _cli(config: Path) -> subprocess.Popen[str]:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    )
    return subprocess.Popen(
        [sys.executable, "-m", "isoloop.cli", "live", str(config), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _fill_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            return int(
                con.execute("SELECT count(*) FROM venue_fills WHERE account='fast'").fetchone()[0]
            )
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def _checkpoint_books(db: Path, account: str) -> dict[str, float]:
    con = sqlite3.connect(db)
    try:
        (raw,) = con.execute(
            "SELECT books_positions FROM container_checkpoints WHERE account=?", (account,)
        ).fetchone()
    finally:
        con.close()
    return json.loads(raw)


def test_sigkill_mid_replay_then_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = _write_config(tmp_path / "live.yaml", state)
    db = state / "paper.sqlite"

    proc = _cli(config)
    try:
        wait_for(lambda: _fill_count(db) >= 20 or proc.poll() is not None, what="20 fills")
        assert proc.poll() is None, "the replay finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = {n: rows(state, n) for n in NAMES}
    assert len(before["fast"]["fills"]) >= 20

    restarted = _cli(config)
    out, err = restarted.communicate(timeout=180)
    assert restarted.returncode == 0, err
    summary = json.loads(out)
    assert set(summary["strategies"]) == set(NAMES)
    assert all(
        s["state"] == "stopped" and s["restarts"] == 0 for s in summary["strategies"].values()
    )
    after = {n: rows(state, n) for n in NAMES}

    reference_state = tmp_path / "reference"
    ref_cfg = live_config(
        reference_state,
        [strategy("fast"), strategy("slow", params={"fast": 10, "slow": 40})],
        bars=800,
        feed={"speed": FAST_SPEED},
    )
    with LiveTradingManager(ref_cfg) as m:
        m.start()
        assert m.wait_settled(120)

    for n in NAMES:
        # Every fill made before the kill is still there, unchanged and in order.
        assert after[n]["fills"][: len(before[n]["fills"])] == before[n]["fills"]
        # The restart resumed from its checkpoint after reconciling with the venue.
        resumed = [e for e in events(state, n, "startup_reconciled") if e["resumed"]]
        assert resumed and resumed[-1]["last_bar"] >= 0
        assert _checkpoint_books(db, n) == after[n]["positions"]
        # Nothing sent twice, nothing lost: the interrupted run ends exactly where an
        # uninterrupted one does.
        ref = rows(reference_state, n)
        ids = [o["id"] for o in after[n]["orders"]]
        assert len(ids) == len(set(ids))
        assert after[n]["orders"] == ref["orders"]
        assert after[n]["fills"] == ref["fills"]
        assert after[n]["cash"] == ref["cash"]
        assert after[n]["positions"] == ref["positions"]


def test_sigterm_stops_gracefully_and_reports(tmp_path: Path) -> None:
    state = tmp_path / "state"
    cfg = live_config(state, [strategy("fast")], bars=800, feed={"speed": 3600 * 300})
    config = tmp_path / "live.yaml"
    config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    proc = _cli(config)
    try:
        wait_for(
            lambda: _fill_count(state / "paper.sqlite") >= 5 or proc.poll() is not None,
            what="5 fills",
        )
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    summary = json.loads(out)["strategies"]["fast"]
    assert summary["state"] == "stopped"
    stored = rows(state, "fast")
    assert summary["fills"] == len(stored["fills"]) >= 5
    assert [e["module"] for e in events(state, "fast", "module_stopped")][-1] == "bus"
