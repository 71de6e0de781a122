"""Indicators declared with `self.I(...)` reach the run folder and the report, by name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import structlog
from backtesting.test import GOOG

from isoloop.backtest import RunOutput
from isoloop.engine.strategy import Strategy
from isoloop.examples.sma_cross import crossover_signals, sma
from isoloop.results.metrics import compute_stats
from isoloop.results.report import write_report
from isoloop.results.run_report import report_for_run_dir
from isoloop.results.rundir import read_indicators, write_run_files
from support.browser import render, requires_chromium
from support.harness import build, make_config, market


def momentum(close: np.ndarray, n: int) -> np.ndarray:
    """Mean daily change in percent: an oscillator around 0, far from the price."""
    return np.asarray(pd.Series(close).pct_change().rolling(n).mean().to_numpy() * 100)


def envelope(close: np.ndarray, n: int) -> pd.DataFrame:
    mid = pd.Series(close).rolling(n).mean()
    return pd.DataFrame({"low": mid * 0.95, "high": mid * 1.05})


class CrossWithContext(Strategy):
    """SmaCross through `self.I`, plus an envelope, an oscillator and a hidden helper."""

    def init(self) -> None:
        close = self.data.close
        fast = self.I(sma, close, 10)
        slow = self.I(sma, close, 30)
        self.I(envelope, close, 30, name="env")
        self.I(momentum, close, 14)
        self.I(sma, close, 5, plot=False)
        self._up = crossover_signals(fast, slow).tolist()
        self._down = crossover_signals(slow, fast).tolist()

    def on_bar(self, i: int) -> None:
        if self._up[i]:
            self.close()
            self.buy()
        elif self._down[i]:
            self.close()
            self.sell()


@pytest.fixture(scope="module")
def goog_output() -> RunOutput:
    cfg = make_config(data__symbol="GOOG", venue__cash=10_000)
    log = structlog.get_logger("test").bind(run_id="report-indicators")
    out: RunOutput = build(cfg, market(("GOOG", GOOG)), CrossWithContext, {}, log=log).engine.run()
    return out


def run_folder(folder: Path, out: RunOutput) -> dict[str, Any]:
    """The run-folder files and manifest a backtest writes, from this run's output."""
    folder.mkdir(parents=True)
    stats = compute_stats(
        out.equity, out.index, out.trades, GOOG["Close"].to_numpy(), warmup_bars=out.warmup_bars
    )
    write_run_files(
        folder,
        index=out.index,
        equity=out.equity,
        trades=out.trades,
        orders=out.orders,
        indicators=out.indicators.values(),
    )
    config = make_config(data__symbol="GOOG", venue__cash=10_000)
    return {
        "run_id": "indicators",
        "config": config.model_dump(mode="json", by_alias=True),
        "stats": stats,
    }


def test_the_run_folder_keeps_every_indicator_line_exactly(
    tmp_path: Path, goog_output: RunOutput
) -> None:
    run_folder(tmp_path / "run", goog_output)
    table = pd.read_csv(tmp_path / "run" / "indicators.csv", index_col="time", parse_dates=True)
    assert list(table.columns) == [
        "sma(C,10)",
        "sma(C,30)",
        "env[low]",
        "env[high]",
        "momentum(C,14)",
        "sma(C,5)",
    ]
    assert table.index.equals(pd.DatetimeIndex(GOOG.index, name="time"))
    np.testing.assert_array_equal(table["sma(C,30)"], goog_output.indicators["sma(C,30)"].values)
    back = {ind.name: ind for ind in read_indicators(tmp_path / "run")}
    assert list(back) == list(goog_output.indicators)
    for name, ind in goog_output.indicators.items():
        np.testing.assert_array_equal(back[name].values, ind.matrix)
        assert (back[name].overlay, back[name].plot, back[name].warmup) == (
            ind.overlay,
            ind.plot,
            ind.warmup,
        )


def test_a_report_without_indicators_is_drawn_as_before(
    tmp_path: Path, goog_output: RunOutput
) -> None:
    common: dict[str, Any] = {
        "title": "t",
        "index": goog_output.index,
        "equity": goog_output.equity,
        "trades": goog_output.trades,
        "ohlc": GOOG,
        "stats": {},
    }
    plain = write_report(tmp_path / "plain.html", **common).read_text()
    empty = write_report(tmp_path / "empty.html", indicators=(), **common).read_text()
    hidden = write_report(
        tmp_path / "hidden.html",
        indicators=[goog_output.indicators["sma(C,5)"]],  # plot=False
        **common,
    ).read_text()
    # Plotly numbers its traces with random ids; the figures are otherwise the same.
    strip = re.compile(
        r'"uid":"[^"]*"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
    )
    assert strip.sub("", plain) == strip.sub("", empty) == strip.sub("", hidden)
    assert '"name":"sma(C,5)"' not in plain


@pytest.mark.browser
@requires_chromium
def test_the_report_of_a_run_folder_draws_each_indicator_by_name(
    tmp_path: Path, goog_output: RunOutput
) -> None:
    folder = tmp_path / "run"
    manifest = run_folder(folder, goog_output)
    path = report_for_run_dir(folder, manifest)
    shot = tmp_path / "report.png"
    page = render(path, screenshot=shot, window=(1400, 1700))
    assert page.console_errors == [], page.console_errors
    legend = re.findall(r'class="legendtext"[^>]*>([^<]*)<', page.dom)
    titles = re.findall(r'class="annotation-text[^"]*"[^>]*>([^<]*)<', page.dom)
    for name in ("sma(C,10)", "sma(C,30)", "env[low]", "env[high]", "momentum(C,14)"):
        assert name in legend, (name, legend)
    assert "sma(C,5)" not in legend  # declared with plot=False
    # Price-like lines share the price chart; the oscillator gets its own titled panel
    # between the price's volume and the trades' returns.
    assert [t for t in titles if t] == [
        "Price and trades",
        "Volume",
        "momentum(C,14)",
        "Trade return [%] (marker size: |P&amp;L|)",
        "Equity",
        "Drawdown [%]",
    ]
    assert len(re.findall(r'class="subplot x\d*y\d*"', page.dom)) == 6
    assert page.dom.count('class="point"') >= len(goog_output.trades)  # trade markers still there
    assert shot.stat().st_size > 20_000
