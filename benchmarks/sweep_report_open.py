"""A 10k-trial sweep report: how long it takes to write, and to open in headless Chromium.

No backtests run: a real sweep store (SQLite, through `SweepStore.bind/record`, as
the driver writes it) is filled with 10,000 plausible trials of three parameters
(a smooth objective surface with a plateau, a few spikes and noise, 2% failed
trials), then `isoloop report STORE` builds the page. Opening is timed two ways,
N times each: the page's own clock (`performance.now()` when the last script of
the page has run: every panel drawn, the first table page built) read from the
DOM, and the wall time of a whole `chromium --headless --dump-dom` run next to
the same run on an empty page (the browser's own start-up); a page holding only
the inlined plotly.js gives the floor every self-contained plotly report pays.
Reported: medians, the file size.

Usage: python benchmarks/sweep_report_open.py [--trials N] [--runs N] [--no-write]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _chromium import chromium
from _results import write_section
from isoloop.sweep.report_files import report_for_store
from isoloop.sweep.spec import STATS_KEYS, TrialResult, TrialSpec
from isoloop.sweep.store import SweepStore

PROBE = "<script>document.body.setAttribute('data-opened-ms', String(performance.now()));</script>"


def fill_store(path: Path, trials: int) -> None:
    """`trials` trials of (fast, slow, stop) on a grid, recorded as the driver records them."""
    rng = np.random.default_rng(np.random.SeedSequence(42))
    side = round(trials ** (1 / 3)) + 1
    fast = np.arange(2, 2 + side)
    slow = np.arange(20, 20 + 5 * side, 5)
    stop = np.round(np.linspace(0.5, 5.0, side), 3)
    grid = np.array(np.meshgrid(fast, slow, stop, indexing="ij")).reshape(3, -1).T[:trials]
    definition = {
        "space": {"fast": fast.tolist(), "slow": slow.tolist(), "stop": stop.tolist()},
        "objective": {"metric": "sharpe_ratio", "direction": "maximize"},
        "base": {"name": "bench", "strategy": {"class": "bench:Strategy"}},
    }
    with SweepStore(path) as store:
        store.bind("b" * 64, definition)
        for trial_id, (f, s, st) in enumerate(grid):
            # A broad plateau near fast=8, slow=60, a few lone spikes, noise everywhere.
            sharpe = 1.2 * np.exp(-(((f - 8) / 6) ** 2) - ((s - 60) / 40) ** 2) - 0.1 * st
            sharpe += rng.normal(0, 0.05) + (2.0 if rng.random() < 0.001 else 0.0)
            stats = {key: float(rng.normal()) for key in STATS_KEYS}
            stats.update(sharpe_ratio=float(sharpe), return_pct=float(sharpe * 80))
            status = "error" if rng.random() < 0.02 else "ok"
            result = TrialResult(
                trial_id=trial_id,
                status=status,
                stats=stats if status == "ok" else {},
                digest=f"{trial_id:064x}",
                attempts=1,
                worker="bench:1",
                error=None if status == "ok" else "RuntimeError: synthetic failure",
            )
            params = {"fast": int(f), "slow": int(s), "stop": float(st)}
            store.record(TrialSpec(trial_id, params, seed=trial_id), result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="Do not update RESULTS.md.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="isoloop-sweep-report-") as tmp:
        store = Path(tmp) / "bench.sqlite"
        fill_store(store, args.trials)
        start = time.perf_counter()
        page = report_for_store(store)
        write_s = time.perf_counter() - start
        probed = page.with_name("probed.html")
        probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
        empty = Path(tmp) / "empty.html"
        empty.write_text("<!DOCTYPE html><html><body></body></html>")
        from plotly.offline import get_plotlyjs

        only = Path(tmp) / "plotly-only.html"
        only.write_text(
            f"<!DOCTYPE html><html><head><script>{get_plotlyjs()}</script></head>"
            f"<body>{PROBE}</body></html>"
        )
        opened, walls, floors, plotly_opened = [], [], [], []
        for _ in range(args.runs):
            floor, _dom = chromium(empty.as_uri())
            _wall, plotly_dom = chromium(only.as_uri())
            found = re.search(r'data-opened-ms="([0-9.]+)"', plotly_dom)
            plotly_opened.append(float(found.group(1)) / 1000 if found else float("nan"))
            wall, dom = chromium(probed.as_uri())
            found = re.search(r'data-opened-ms="([0-9.]+)"', dom)
            if found is None or 'id="trials-count"' not in dom:
                raise SystemExit("the report did not finish drawing in Chromium")
            opened.append(float(found.group(1)) / 1000)
            walls.append(wall)
            floors.append(floor)
        size_mb = page.stat().st_size / 1e6
    body = f"""## Sweep report open time ({args.trials:,} trials)

`benchmarks/sweep_report_open.py`: a real sweep store filled with {args.trials:,} synthetic
trials (3 parameters, 2% failed), its report written by `isoloop report STORE`, then
opened {args.runs} times in headless Chromium.

| measure | median | fastest |
|---|---|---|
| write the report (Python) | {write_s:.2f} s | |
| page script done (`performance.now()`, every panel drawn) | {statistics.median(opened):.2f} s | {min(opened):.2f} s |
| page script done, a page holding only the inlined plotly.js (its parse: the floor) | {statistics.median(plotly_opened):.2f} s | {min(plotly_opened):.2f} s |
| `chromium --dump-dom` wall, report | {statistics.median(walls):.2f} s | {min(walls):.2f} s |
| `chromium --dump-dom` wall, empty page (browser start-up) | {statistics.median(floors):.2f} s | {min(floors):.2f} s |

Report file: {size_mb:.1f} MB (plotly.js inlined; the trials table pages 50 rows at a time).
"""
    print(body)
    if not args.no_write:
        write_section("sweep_report_open", body)


if __name__ == "__main__":
    main()
