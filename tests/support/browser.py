"""Open local HTML in real headless Chromium and collect the rendered DOM and console errors.

Reusable by any test: `render(path)` returns the DOM after scripts ran, the
browser's stderr and the console error lines found in it.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["CHROMIUM", "Rendered", "render", "requires_chromium"]

CHROMIUM = Path("/usr/bin/chromium")

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is not installed (apt-get install -y chromium)",
)

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    # Let timers and animation frames run before the DOM is dumped.
    "--virtual-time-budget=10000",
)

# Page-level problems Chromium logs: uncaught exceptions, console.error/console.warn
# output, and resources that failed to load.
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\))?\]|Uncaught|console\.error", re.IGNORECASE)
_ERRORISH = re.compile(r"Uncaught|Error|Failed to load|net::ERR_", re.IGNORECASE)


@dataclass(frozen=True)
class Rendered:
    dom: str
    stderr: str
    console_errors: list[str]
    screenshot: Path | None


def console_errors(stderr: str) -> list[str]:
    """Console lines from the page that report an error (not Chromium's own chatter)."""
    return [
        line
        for line in stderr.splitlines()
        if ("Uncaught" in line) or (_CONSOLE.search(line) and _ERRORISH.search(line))
    ]


def render(
    page: Path | str,
    *,
    screenshot: Path | None = None,
    window: tuple[int, int] = (1400, 1100),
    timeout: float = 120.0,
) -> Rendered:
    """Load `page` (a local file, or a URL given as a string) in headless Chromium; dump its
    DOM and optionally a PNG."""
    url = page if isinstance(page, str) else page.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="isoloop-chromium-") as profile:
        base = [
            str(CHROMIUM),
            *_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={window[0]},{window[1]}",
        ]
        dump = subprocess.run(
            [*base, "--dump-dom", url], capture_output=True, text=True, timeout=timeout, check=False
        )
        stderr = dump.stderr
        if screenshot is not None:
            shot = subprocess.run(
                [*base, f"--screenshot={screenshot}", url],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            stderr += shot.stderr
    if dump.returncode != 0:
        raise RuntimeError(f"chromium exited {dump.returncode}: {stderr[-2000:]}")
    return Rendered(dump.stdout, stderr, console_errors(stderr), screenshot)
