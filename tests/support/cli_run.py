"""Run the real `isoloop` CLI in a subprocess, with `tests/` importable (`support.*`)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def run_isoloop(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`python -m isoloop.cli ARGS` in `cwd`; `env` entries are added to this environment."""
    full = dict(os.environ)
    full["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), full.get("PYTHONPATH")) if p)
    full.update(env or {})
    return run_cli(*args, cwd=cwd, env=full, timeout=timeout)


def run_cli(
    *args: str, cwd: Path, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """`python -m isoloop.cli ARGS` in `cwd` with exactly the environment `env`."""
    return subprocess.run(
        [sys.executable, "-m", "isoloop.cli", *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(env),
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single `error:` line of a run that must exit 2 (asserts the contract)."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in done.stderr + done.stdout
    return lines[0]
