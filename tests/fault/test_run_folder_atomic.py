"""A run folder appears complete or not at all.

Every file, `report.html` included, is written into a `.NAME.<pid>.<token>.partial`
staging folder that is renamed into place at the end. A disk that fills up while
the report is written therefore leaves no run folder; the staging folder of a
SIGKILLed backtest is removed by the next run into the same output folder, while
the staging folder of a run that is still alive is left alone.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[2]
GOOG_CFG = ROOT / "configs" / "goog_sma.yaml"
# Long enough (a few seconds) to catch the run while its staging folder exists.
SLOW_DATA = "data.source=synthetic:gbm?bars=60000&seed=7"


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "isoloop.cli", *args]


def staging_folders(out: Path) -> list[Path]:
    if not out.exists():
        return []
    return sorted(p for p in out.iterdir() if p.name.startswith(".") and p.is_dir())


def start_slow_backtest(out: Path, name: str) -> tuple[subprocess.Popen[str], Path]:
    """A real backtest process, returned once its staging folder holds its event log.

    The folder is made a moment before the log is opened in it: returning at the folder
    alone let a caller's SIGSTOP land in between (seen once on a fresh clone)."""
    before = set(staging_folders(out))
    proc = subprocess.Popen(
        command(
            "backtest",
            str(GOOG_CFG),
            "--set",
            SLOW_DATA,
            "--set",
            f"name={name}",
            "--out",
            str(out),
            "--json",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        new = [p for p in staging_folders(out) if p not in before]
        if new:
            assert len(new) == 1
            assert new[0].name.startswith(f".{name}-") and f".{proc.pid}." in new[0].name
            if (new[0] / "events.jsonl").exists():
                return proc, new[0]
        if proc.poll() is not None:
            pytest.fail(f"backtest ended before staging: {proc.returncode} {proc.stderr.read()}")
        time.sleep(0.005)
    proc.kill()
    pytest.fail("no staging folder appeared")


def final_folders(out: Path, name: str) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.name.startswith(f"{name}-"))


def test_a_killed_runs_staging_is_removed_by_the_next_run_and_a_live_ones_is_kept(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    killed, killed_staging = start_slow_backtest(out, "killed")
    killed.send_signal(signal.SIGKILL)
    killed.communicate()
    assert killed_staging.is_dir()  # what a SIGKILL leaves behind
    assert final_folders(out, "killed") == []

    alive, alive_staging = start_slow_backtest(out, "alive")
    alive.send_signal(signal.SIGSTOP)  # alive but not progressing while the next run starts
    try:
        nxt = subprocess.run(
            command("backtest", str(GOOG_CFG), "--out", str(out), "--json", "--no-report"),
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )
        assert nxt.returncode == 0, nxt.stderr
        assert not killed_staging.exists()
        assert alive_staging.is_dir()
        assert (alive_staging / "events.jsonl").exists()
        assert Path(json.loads(nxt.stdout)["run_dir"]).is_dir()
    finally:
        alive.send_signal(signal.SIGCONT)
    # The run whose staging folder was kept finishes and publishes its folder.
    stdout, stderr = alive.communicate(timeout=180)
    assert alive.returncode == 0, stderr
    run_dir = Path(json.loads(stdout)["run_dir"])
    assert run_dir.parent == out and (run_dir / "manifest.json").is_file()
    assert staging_folders(out) == []


def _file_size_limit(limit: int) -> None:
    # Like a disk that fills up: writes past `limit` bytes fail with EFBIG (the
    # signal a process gets by default is ignored so the write returns the error).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def test_a_failure_while_writing_the_report_leaves_no_run_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    # Every other file of the run is well under 1 MB; the report is several MB.
    proc = subprocess.run(
        command("backtest", str(GOOG_CFG), "--out", str(out), "--json"),
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
        preexec_fn=lambda: _file_size_limit(1_000_000),
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "File too large" in lines[0] or "No space" in lines[0], lines[0]
    assert proc.stdout == ""
    assert list(out.iterdir()) == []  # no run folder, no staging folder, no temp report
