"""Headless Chromium for the report open-time benchmarks: one `--dump-dom` run, timed."""

from __future__ import annotations

import subprocess
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium(url: str) -> tuple[float, str]:
    """Wall seconds of one fresh headless Chromium loading `url`, and the DOM it dumped."""
    with tempfile.TemporaryDirectory(prefix="isoloop-bench-") as profile:
        start = time.perf_counter()
        done = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        return time.perf_counter() - start, done.stdout
