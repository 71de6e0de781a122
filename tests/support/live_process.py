"""Helpers for tests that drive a real `isoloop live` process: config, start, CLI, store reads."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import yaml

from support.live_helpers import wait_for

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
TOKEN_ENV = "ISOLOOP_LIVE_TOKEN"


def paper_three_config(
    path: Path,
    state_dir: Path,
    *,
    speed: float | None = None,
    feed_max_bars: int | None = None,
    **overrides: Any,
) -> Path:
    """`configs/paper_three.yaml` with its state in `state_dir` and the API on any free port."""
    cfg = yaml.safe_load((REPO / "configs" / "paper_three.yaml").read_text(encoding="utf-8"))
    cfg["state_dir"] = str(state_dir)
    cfg["api"] = {"enabled": True, "port": 0, "token_env": TOKEN_ENV}
    if speed is not None:
        cfg["feed"]["speed"] = speed
    if feed_max_bars is not None:
        cfg["feed"]["max_bars"] = feed_max_bars
    cfg.update(overrides)
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def live_env(token: str) -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        **{TOKEN_ENV: token, "ISOLOOP_PAPER__PAPER__API_KEY": "paper-key-for-tests-0123"},
    )


class LiveProcess:
    """`isoloop live CONFIG --json` in a subprocess; stdout and stderr go to files."""

    def __init__(self, config: Path, state_dir: Path, env: dict[str, str], label: str) -> None:
        self.state_dir = state_dir
        (state_dir / "api.json").unlink(missing_ok=True)
        self.stdout_path = config.parent / f"{label}.stdout"
        self.stderr_path = config.parent / f"{label}.stderr"
        self._out: IO[bytes] = self.stdout_path.open("wb")
        self._err: IO[bytes] = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "isoloop.cli", "live", str(config), "--json"],
            stdout=self._out,
            stderr=self._err,
            env=env,
        )
        self.pid = self.proc.pid

    def url(self, timeout: float = 60.0) -> str:
        api = self.state_dir / "api.json"
        wait_for(lambda: api.exists() or self.proc.poll() is not None, timeout, "api.json")
        assert self.proc.poll() is None, self.stderr()
        wait_for(lambda: bool(api.read_text(encoding="utf-8").strip()), timeout, "api.json")
        return str(json.loads(api.read_text(encoding="utf-8"))["url"])

    def stderr(self) -> str:
        self._err.flush()
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self._out.close()
        self._err.close()


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`isoloop ARGS` as a user types it, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "isoloop.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _query(db: Path, sql: str, args: tuple[Any, ...]) -> Any:
    if not db.exists():
        return None
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            row = con.execute(sql, args).fetchone()
        finally:
            con.close()
    except sqlite3.OperationalError:
        return None  # the tables are not created yet
    return None if row is None else row[0]


def order_count(db: Path, account: str) -> int:
    n = _query(db, "SELECT count(*) FROM venue_orders WHERE account=?", (account,))
    return int(n or 0)


def last_bar(db: Path, account: str) -> int:
    n = _query(db, "SELECT last_bar FROM container_checkpoints WHERE account=?", (account,))
    return -1 if n is None else int(n)
