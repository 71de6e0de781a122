"""A 1M-bar backtest report: how long it takes to write, and to open in headless Chromium.

No backtest runs: one million synthetic bars (`synthetic:gbm`, with volume), an
equity curve that follows the close, 2,000 trades (every one with a stop-loss
and a take-profit) and one declared overlay indicator go through the report's
own `write_report`, so every downsampling rule is exercised: candles aggregated
per bucket (OHLC, volume summed), lines kept as min/max per bucket, every trade
marker and table row kept. Opening is timed two ways, N times each: the page's
own clock (`performance.now()` when the page's last script has run, after
plotly drew every panel) read from the DOM, and the wall time of a whole
`chromium --headless --dump-dom` run next to the same run on an empty page (the
browser's own start-up). Reported: medians, fastest, the file size.

Usage: python benchmarks/report_open.py [--bars N] [--runs N] [--write]
(`--write` also updates this benchmark's section of benchmarks/RESULTS.md)
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _chromium import chromium
from _results import write_section
from isoloop.data import load_frame
from isoloop.results.metrics import compute_stats
from isoloop.results.report import write_report

# Runs after the plot's own script: records the time and what plotly drew.
PROBE = (
    "<script>var b=document.body;b.setAttribute('data-opened-ms',String(performance.now()));"
    "b.setAttribute('data-subplots',String(document.querySelectorAll('.subplot').length));"
    "</script>"
)


@dataclass(frozen=True)
class Indicator:
    name: str
    values: np.ndarray
    lines: tuple[str, ...] = ("sma(C,200)",)
    overlay: bool = True
    plot: bool = True
    warmup: int = 199


def write(path: Path, bars: int) -> tuple[float, int]:
    _, frame = load_frame(f"synthetic:gbm?bars={bars}&seed=3&vol=0.001")
    close = frame["Close"].to_numpy()
    n = len(frame)
    equity = 10_000 * close / close[0]
    entries = np.linspace(0, n - 300, 2_000).astype(np.int64)
    exits = entries + 250
    size = np.where(np.arange(entries.size) % 2 == 0, 1.0, -1.0)
    entry_price = frame["Open"].to_numpy()[entries]
    exit_price = close[exits]
    pnl = (exit_price - entry_price) * size
    index = frame.index.as_unit("ns")
    trades = pd.DataFrame(
        {
            "symbol": "SYN",
            "size": size,
            "entry_bar": entries,
            "exit_bar": exits,
            "entry_price": entry_price,
            "exit_price": exit_price,
            "entry_time": index[entries],
            "exit_time": index[exits],
            "pnl": pnl,
            "return_pct": pnl / entry_price,
            "sl": entry_price * (1 - 0.02 * size),
            "tp": entry_price * (1 + 0.04 * size),
        }
    )
    sma = pd.Series(close).rolling(200).mean().to_numpy()
    stats = compute_stats(equity, index.to_numpy(), trades, close)
    start = time.perf_counter()
    write_report(
        path,
        title=f"{n:,} bars",
        index=index.to_numpy(),
        equity=equity,
        trades=trades,
        ohlc=frame,
        stats=stats,
        indicators=[Indicator("sma(C,200)", sma)],
    )
    return time.perf_counter() - start, len(trades)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="Update RESULTS.md too.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="isoloop-report-open-") as tmp:
        page = Path(tmp) / "report.html"
        write_s, n_trades = write(page, args.bars)
        probed = page.with_name("probed.html")
        probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
        empty = Path(tmp) / "empty.html"
        empty.write_text("<!DOCTYPE html><html><body></body></html>")
        opened, walls, floors = [], [], []
        for _ in range(args.runs):
            floor, _dom = chromium(empty.as_uri())
            wall, dom = chromium(probed.as_uri())
            found = re.search(r'data-opened-ms="([0-9.]+)"', dom)
            drawn = re.search(r'data-subplots="([0-9]+)"', dom)
            if found is None or drawn is None or int(drawn.group(1)) < 5:
                raise SystemExit("the report did not finish drawing in Chromium")
            if 'class="trace boxes"' not in dom or dom.count("<tr class=") != n_trades:
                raise SystemExit("candles or trade rows missing from the rendered page")
            opened.append(float(found.group(1)) / 1000)
            walls.append(wall)
            floors.append(floor)
        size_mb = page.stat().st_size / 1e6
    body = f"""## Backtest report open time ({args.bars:,} bars)

`benchmarks/report_open.py`: {args.bars:,} synthetic bars with volume, {n_trades:,} trades
(each with SL and TP) and one overlay indicator, written by `write_report` (candles
aggregated to at most 3,000, lines to at most 20,000 points), then opened {args.runs}
times in headless Chromium.

| measure | median | fastest |
|---|---|---|
| write the report (Python) | {write_s:.2f} s | |
| page script done (`performance.now()`, every panel drawn) | {statistics.median(opened):.2f} s | {min(opened):.2f} s |
| `chromium --dump-dom` wall, report | {statistics.median(walls):.2f} s | {min(walls):.2f} s |
| `chromium --dump-dom` wall, empty page (browser start-up) | {statistics.median(floors):.2f} s | {min(floors):.2f} s |

Report file: {size_mb:.1f} MB (plotly.js inlined, {n_trades:,} trade rows).
"""
    print(body)
    if args.write:
        write_section("report_open", body)


if __name__ == "__main__":
    main()
