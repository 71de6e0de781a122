"""The HTML report is one offline file that renders in a real support.browser."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest
from backtesting.test import GOOG

from isoloop.data import load_frame
from isoloop.results.metrics import STATS_KEYS, compute_stats
from isoloop.results.report import MAX_POINTS, decimate, write_report
from support.browser import render, requires_chromium
from support.oracle import OracleSmaCross as SmaCross
from support.oracle import bt_trades_frame


@pytest.fixture(scope="module")
def goog_run() -> dict[str, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = Backtest(GOOG, SmaCross, cash=10_000, finalize_trades=True).run()
    trades = bt_trades_frame(out["_trades"], "GOOG")
    equity = out["_equity_curve"]["Equity"].to_numpy(dtype=float)
    index = pd.DatetimeIndex(GOOG.index).as_unit("ns").to_numpy()
    stats = compute_stats(equity, index, trades, GOOG["Close"].to_numpy())
    return {"index": index, "equity": equity, "trades": trades, "ohlc": GOOG, "stats": stats}


def test_report_is_one_offline_file_with_stats_and_every_trade(
    tmp_path: Path, goog_run: dict[str, object]
) -> None:
    path = write_report(tmp_path / "r" / "report.html", title="GOOG <SmaCross>", **goog_run)  # type: ignore[arg-type]
    text = path.read_text()
    assert path.parent.is_dir()
    assert "GOOG &lt;SmaCross&gt;" in text
    # No network: no external scripts or stylesheets, plotly.js itself inlined.
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"<link[^>]+href=", text)
    assert 'src="https://cdn.plot.ly' not in text
    assert "Plotly.newPlot" in text and len(text) > 3_000_000
    for key in STATS_KEYS:
        assert f"<td>{key}</td>" in text
    assert "51,422.99" in text  # equity_final
    trades = goog_run["trades"]
    assert isinstance(trades, pd.DataFrame)
    for name in ("long entry", "short entry", "long exit", "short exit"):
        assert f'"name":"{name}"' in text


def test_decimation_keeps_extremes_and_endpoints() -> None:
    rng = np.random.default_rng(np.random.SeedSequence(5))
    values = np.cumsum(rng.standard_normal(1_000_003))
    keep = decimate(values)
    assert keep.size <= MAX_POINTS + 4
    assert keep[0] == 0 and keep[-1] == values.size - 1
    assert np.all(np.diff(keep) > 0)
    assert values.argmax() in keep and values.argmin() in keep
    assert np.array_equal(decimate(values[:100]), np.arange(100))


def test_large_series_stay_small_but_keep_all_trade_markers(tmp_path: Path) -> None:
    _, frame = load_frame("synthetic:gbm?bars=200000&seed=3&vol=0.001")
    n = len(frame)
    equity = 10_000 * frame["Close"].to_numpy() / frame["Close"].iloc[0]
    entries = np.arange(0, n - 10, 400)
    trades = pd.DataFrame(
        {
            "size": np.where(np.arange(entries.size) % 2 == 0, 1.0, -1.0),
            "entry_bar": entries,
            "exit_bar": entries + 7,
            "entry_price": frame["Open"].to_numpy()[entries],
            "exit_price": frame["Close"].to_numpy()[entries + 7],
            "pnl": 1.0,
            "return_pct": 0.001,
        }
    )
    index = frame.index.as_unit("ns").to_numpy()
    stats = compute_stats(equity, index, trades, frame["Close"].to_numpy())
    path = write_report(
        tmp_path / "big.html",
        title="big",
        index=index,
        equity=equity,
        trades=trades,
        ohlc=frame,
        stats=stats,
    )
    size_mb = path.stat().st_size / 1e6
    assert size_mb < 10, size_mb  # measured 7.5 MB: 4.7 MB plotly.js + decimated series
    text = path.read_text()
    assert text.count('"symbol":"triangle-up"') == 1  # one trace per marker kind
    assert len(trades) == 500


@pytest.mark.browser
@requires_chromium
def test_report_renders_in_headless_chromium(tmp_path: Path, goog_run: dict[str, object]) -> None:
    path = write_report(tmp_path / "report.html", title="GOOG SmaCross", **goog_run)  # type: ignore[arg-type]
    shot = tmp_path / "report.png"
    page = render(path, screenshot=shot, window=(1400, 1500))
    assert page.console_errors == [], page.console_errors
    # Plotly turned the data into SVG: three subplots, candles, markers for all 66 trades.
    assert page.dom.count('class="main-svg"') >= 2
    assert 'class="candlestick"' in page.dom or "trace boxes" in page.dom
    assert page.dom.count('class="point"') >= 66
    assert 'id="stats"' in page.dom
    assert shot.stat().st_size > 20_000


@pytest.mark.browser
@requires_chromium
def test_browser_helper_reports_page_errors(tmp_path: Path) -> None:
    # The helper must catch a broken page, or the test above proves nothing.
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<html><body><script>console.error('boom'); undefinedFn();</script></body></html>"
    )
    page = render(bad)
    assert any("undefinedFn" in line for line in page.console_errors), page.stderr[-2000:]
