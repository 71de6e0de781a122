"""A failed run's report: its error, the events it logged, and only the panels it has data for.

The run folders are built here in the shape a failed backtest publishes
(manifest `status: failed` with `error` {code, severity, component, operation,
message, traceback}, and `events.jsonl`), so the report does not depend on how
a run comes to fail.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtesting.test import GOOG

from isoloop.config import RunConfig
from isoloop.results.run_report import EVENTS_SHOWN, report_for_run_dir
from isoloop.results.rundir import write_run_files
from support.browser import render, requires_chromium
from support.user_code import isoloop

ERROR = {
    "code": "EXEC-005",
    "severity": "CRITICAL",
    "component": "execution_manager",
    "operation": "reconcile",
    "message": "books and venue disagree on GOOG after 3 retries <cash 9,812.00 vs 10,000.00>",
    "traceback": 'Traceback (most recent call last):\n  File "driver.py", line 88, in run\n'
    "isoloop.errors.ReconciliationError: books and venue disagree",
}


def failed_folder(folder: Path, events: int, *, config: bool = True) -> dict[str, Any]:
    """A failed run's folder: manifest and events, no equity, trades or stats."""
    folder.mkdir(parents=True)
    lines = [
        {"timestamp": f"2026-01-01T00:00:{i % 60:02d}Z", "level": "debug", "event": "bar", "bar": i}
        for i in range(events - 1)
    ]
    lines.append(
        {"timestamp": "2026-01-01T00:01:00Z", "level": "error", "event": "run_error", **ERROR}
    )
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    raw = {
        "strategy": {
            "class": "isoloop.examples.sma_cross:SmaCross",
            "params": {"fast": 7, "slow": 41},
        },
        "data": {"source": "sample:GOOG", "symbol": "GOOG"},
    }
    manifest: dict[str, Any] = {
        "run_id": "goog-failed",
        "status": "failed",
        "error": ERROR,
        "data": {"GOOG": {"fingerprint": "ab" * 32, "bars": None, "source": "sample:GOOG"}},
    }
    if config:
        manifest["config"] = RunConfig.model_validate(raw).model_dump(mode="json", by_alias=True)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return manifest


@pytest.mark.browser
@requires_chromium
def test_a_failed_run_renders_its_error_and_events(tmp_path: Path) -> None:
    folder = tmp_path / "goog-failed"
    failed_folder(folder, events=EVENTS_SHOWN + 50)
    # `isoloop report RUN_DIR` works on it: exit 0, the report's path printed.
    done = isoloop("report", str(folder), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(folder / "report.html")
    shot = tmp_path / "failed.png"
    page = render(folder / "report.html", screenshot=shot, window=(1400, 1200))
    assert page.console_errors == [], page.console_errors
    box = re.search(r'<div class="error" id="error">(.*?)</div>', page.dom, re.S)
    assert box is not None
    for value in ("EXEC-005", "CRITICAL", "execution_manager", "reconcile"):
        assert f"<b>{value}</b>" in box.group(1)
    assert "&lt;cash 9,812.00 vs 10,000.00&gt;" in box.group(1)  # escaped, not markup
    assert "ReconciliationError: books and venue disagree" in box.group(1)
    # The last events, newest last, with the count of all of them.
    assert f"Events (the last {EVENTS_SHOWN} of {EVENTS_SHOWN + 50})" in page.dom
    events = re.search(r'<table class="events" id="events">(.*?)</table>', page.dom, re.S)
    assert events is not None
    rows = re.findall(r"<tr>(.*?)</tr>", events.group(1), re.S)
    assert len(rows) == EVENTS_SHOWN + 1  # + header
    assert "<td>run_error</td>" in rows[-1]
    # Parameters and data are shown; no charts, stats or trades: the run recorded none.
    assert "<td>fast</td><td><code>7</code>" in page.dom and "ab" * 32 in page.dom
    assert "main-svg" not in page.dom and 'id="stats"' not in page.dom
    assert 'id="trades"' not in page.dom
    assert "FAILED" in re.search(r"<h1>(.*?)</h1>", page.dom).group(1)  # type: ignore[union-attr]
    assert shot.stat().st_size > 10_000


def test_a_failed_run_with_partial_results_draws_what_it_has(tmp_path: Path) -> None:
    """Equity and trades up to the failure are drawn; data, stats and the rest may be missing."""
    folder = tmp_path / "partial"
    manifest = failed_folder(folder, events=3)
    bars = 300
    index = pd.DatetimeIndex(GOOG.index[:bars]).as_unit("ns").to_numpy()
    equity = 10_000 * GOOG["Close"].to_numpy()[:bars] / GOOG["Close"].iloc[0]
    trades = pd.DataFrame(
        {
            "symbol": ["GOOG"],
            "venue": ["sim"],
            "size": [10.0],
            "entry_bar": [5],
            "exit_bar": [40],
            "entry_price": [GOOG["Open"].iloc[5]],
            "exit_price": [GOOG["Close"].iloc[40]],
            "entry_time": [GOOG.index[5]],
            "exit_time": [GOOG.index[40]],
            "pnl": [12.5],
            "commission": [0.0],
            "return_pct": [0.01],
            "tag": [None],
            "sl": [np.nan],
            "tp": [np.nan],
        }
    )
    write_run_files(folder, index=index, equity=equity, trades=trades, orders=[])
    text = report_for_run_dir(folder, manifest).read_text(encoding="utf-8")
    assert 'id="error"' in text and "Plotly.newPlot" in text
    assert re.search(r'<table class="trades" id="trades">.*?</table>', text, re.S)
    assert 'id="stats"' not in text  # a failed run has no stats to show
    assert 'id="events"' in text


def test_a_failed_run_without_a_readable_config_still_shows_its_error(tmp_path: Path) -> None:
    folder = tmp_path / "no-config"
    failed_folder(folder, events=1, config=False)
    text = report_for_run_dir(folder).read_text(encoding="utf-8")
    assert "<b>EXEC-005</b>" in text and 'id="params"' not in text


def test_a_report_is_a_pure_function_of_the_run_folder(tmp_path: Path) -> None:
    folder = tmp_path / "again"
    manifest = failed_folder(folder, events=5)
    first = report_for_run_dir(folder, manifest).read_bytes()
    (folder / "report.html").unlink()
    assert report_for_run_dir(folder, manifest).read_bytes() == first
