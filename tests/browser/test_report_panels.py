"""The backtest report in headless Chromium: every panel a user looks for, in the DOM.

A run with declared indicators and bracket orders (stop-loss and take-profit on
every entry) is written as a run folder, its report rendered by real Chromium,
and the rendered page checked: candles, volume, indicator lines, trade markers,
SL/TP levels, per-trade returns, equity with buy-and-hold, drawdown with the
longest one marked, the parameters, the data fingerprint and one table row per
trade, which sorts when its header is clicked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import structlog
from backtesting.test import GOOG

import isoloop
from isoloop.backtest import RunOutput
from isoloop.data.fingerprint import fingerprint
from isoloop.engine.strategy import Strategy
from isoloop.examples.sma_cross import crossover_signals, sma
from isoloop.results.metrics import compute_stats
from isoloop.results.report_panels import PriceSeries, buy_and_hold
from isoloop.results.run_report import report_for_run_dir
from isoloop.results.rundir import write_run_files
from support.browser import render, requires_chromium
from support.harness import build, make_config, market

PARAMS = {"fast": 10, "slow": 30, "sl_pct": 0.04, "tp_pct": 0.08}


class BracketCross(Strategy):
    """SmaCross with declared SMAs and a stop-loss and take-profit on every entry."""

    def init(self) -> None:
        close = self.data.close
        fast = self.I(sma, close, PARAMS["fast"])
        slow = self.I(sma, close, PARAMS["slow"])
        self._up = crossover_signals(fast, slow).tolist()
        self._down = crossover_signals(slow, fast).tolist()
        self._close = self.data.close_l

    def on_bar(self, i: int) -> None:
        c = self._close[i]
        if self._up[i]:
            self.close()
            self.buy(sl=c * (1 - PARAMS["sl_pct"]), tp=c * (1 + PARAMS["tp_pct"]))
        elif self._down[i]:
            self.close()
            self.sell(sl=c * (1 + PARAMS["sl_pct"]), tp=c * (1 - PARAMS["tp_pct"]))


@pytest.fixture(scope="module")
def bracket_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunOutput]:
    cfg = make_config(
        data__symbol="GOOG",
        venue__cash=10_000,
        strategy__params=PARAMS,
        strategy__class="test_report_panels:BracketCross",
    )
    log = structlog.get_logger("test").bind(run_id="report-panels")
    out: RunOutput = build(cfg, market(("GOOG", GOOG)), BracketCross, PARAMS, log=log).engine.run()
    folder = tmp_path_factory.mktemp("bracket") / "run"
    folder.mkdir()
    write_run_files(
        folder,
        index=out.index,
        equity=out.equity,
        trades=out.trades,
        orders=out.orders,
        indicators=out.indicators.values(),
    )
    manifest: dict[str, Any] = {
        "run_id": "bracket",
        "config": cfg.model_dump(mode="json", by_alias=True),
        "data": {"GOOG": {"bars": len(GOOG), "fingerprint": fingerprint(GOOG), "source": None}},
        "stats": compute_stats(out.equity, out.index, out.trades, GOOG["Close"].to_numpy()),
        "warmup_bars": out.warmup_bars,
    }
    report_for_run_dir(folder, manifest)
    return folder, out


def _legend(dom: str) -> list[str]:
    return re.findall(r'class="legendtext"[^>]*>([^<]*)<', dom)


def _titles(dom: str) -> list[str]:
    return [t for t in re.findall(r'class="annotation-text[^"]*"[^>]*>([^<]*)<', dom) if t]


def _table_rows(dom: str, table_id: str) -> list[str]:
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', dom, re.S)
    assert match is not None, f"no table #{table_id}"
    return re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(0), re.S)


@pytest.mark.browser
@requires_chromium
def test_the_backtest_report_shows_every_panel(bracket_run: tuple[Path, RunOutput]) -> None:
    folder, out = bracket_run
    trades = out.trades
    assert trades["sl"].notna().all() and trades["tp"].notna().all()  # every entry bracketed
    shot = folder / "report.png"
    page = render(folder / "report.html", screenshot=shot, window=(1400, 2000))
    assert page.console_errors == [], page.console_errors
    dom = page.dom
    # Candles (plotly draws them as boxes) and the volume bars, drawn as SVG.
    assert dom.count('class="trace boxes"') == 1
    assert dom.count('class="trace bars"') == 1
    assert _titles(dom) == [
        "Price and trades",
        "Volume",
        "Trade return [%] (marker size: |P&amp;L|)",
        "Equity",
        "Drawdown [%]",
    ]
    legend = _legend(dom)
    for name in ("sma(C,10)", "sma(C,30)", "long entry", "short entry", "stop-loss",
                 "take-profit", "winning trade", "losing trade", "trade P&amp;L", "equity",
                 "buy and hold"):  # fmt: skip
        assert name in legend, (name, legend)
    longest = [n for n in legend if n.startswith("longest drawdown (")]
    assert len(longest) == 1 and re.fullmatch(
        r"longest drawdown \([\d,]+ days(, open)?\)", longest[0]
    )
    # One marker per trade at least: entries, exits and returns are all drawn.
    assert dom.count('class="point"') >= 3 * len(trades)
    # The tables: one row per trade, the parameters as run, the data's fingerprint.
    assert len(_table_rows(dom, "trades")) == len(trades) + 1  # + header
    params = " ".join(_table_rows(dom, "params"))
    for key, value in PARAMS.items():
        assert re.search(rf"<td>{key}</td><td><code>{value}</code>", params), key
    assert fingerprint(GOOG) in " ".join(_table_rows(dom, "data"))
    assert 'id="drawdowns"' in dom and 'id="stats"' in dom
    # Linked zoom: every other panel's x axis matches the same (bottom) one.
    text = (folder / "report.html").read_text(encoding="utf-8")
    matched = re.findall(r'"matches":"(x\d*)"', text)
    assert len(matched) == len(_titles(dom)) - 1 and len(set(matched)) == 1
    assert shot.stat().st_size > 50_000


@pytest.mark.browser
@requires_chromium
def test_clicking_a_trades_header_sorts_the_rows(
    tmp_path: Path, bracket_run: tuple[Path, RunOutput]
) -> None:
    folder, out = bracket_run
    text = (folder / "report.html").read_text(encoding="utf-8")
    headers = re.findall(
        r"<th>([a-z_]+)</th>", text.split('id="trades"', 1)[1].split("</thead>")[0]
    )
    column = headers.index("pnl") + 1
    # The report's own script handles the clicks; two clicks sort descending.
    click = f'var h=document.querySelector("#trades th:nth-child({column})");h.click();h.click();'
    clicked = tmp_path / "clicked.html"
    clicked.write_text(
        text.replace("</body>", f"<script>{click}</script></body>"), encoding="utf-8"
    )
    page = render(clicked)
    assert page.console_errors == [], page.console_errors
    rows = _table_rows(page.dom, "trades")[1:]
    shown = [float(re.findall(r'data-v="([^"]*)"', row)[column - 1]) for row in rows]
    expected = sorted(out.trades["pnl"].to_numpy(dtype=float), reverse=True)
    np.testing.assert_allclose(shown, expected)
    assert shown != list(out.trades["pnl"])  # the run's own order was not already sorted


@pytest.mark.browser
@requires_chromium
def test_a_portfolio_report_has_a_panel_per_symbol_and_portfolio_equity(tmp_path: Path) -> None:
    config = Path(__file__).parents[2] / "configs" / "portfolio.yaml"
    result = isoloop.run_backtest(config, out=tmp_path)
    folder = next(p for p in tmp_path.iterdir() if p.is_dir())
    page = render(folder / "report.html", window=(1400, 2300))
    assert page.console_errors == [], page.console_errors
    titles = _titles(page.dom)
    assert titles[:4] == ["GOOG and trades", "GOOG volume", "BTCUSD and trades", "BTCUSD volume"]
    assert titles[-2:] == ["Equity", "Drawdown [%]"]
    assert page.dom.count('class="trace boxes"') == 2
    legend = _legend(page.dom)
    assert "buy and hold (equal-weight basket)" in legend
    # The account's equity with each symbol's share of it.
    assert {"equity", "GOOG position value", "BTCUSD position value"} <= set(legend)
    rows = _table_rows(page.dom, "trades")[1:]
    assert len(rows) == len(result.trades)
    symbols = [re.findall(r'data-v="([^"]*)"', row)[0] for row in rows]
    assert sorted(set(symbols)) == ["BTCUSD", "GOOG"]
    data = " ".join(_table_rows(page.dom, "data"))
    assert "sample:BTCUSD" in data and "sample:GOOG" in data


def test_buy_and_hold_starts_where_its_stat_does(bracket_run: tuple[Path, RunOutput]) -> None:
    """The grey line ends at the starting cash times (1 + buy_hold_return_pct / 100)."""
    _, out = bracket_run
    index = pd.DatetimeIndex(out.index)
    hold = buy_and_hold(index, 10_000.0, [PriceSeries(None, GOOG)], out.warmup_bars)
    stats = compute_stats(
        out.equity, out.index, out.trades, GOOG["Close"].to_numpy(), warmup_bars=out.warmup_bars
    )
    assert hold[-1] == pytest.approx(10_000 * (1 + stats["buy_hold_return_pct"] / 100))
    assert np.all(hold[: out.warmup_bars + 1] == 10_000)  # flat through the warm-up


def test_an_equal_weight_basket_carries_each_close_forward() -> None:
    days = pd.date_range("2024-01-01", periods=4, freq="D")
    daily = pd.DataFrame({"Close": [10.0, 11.0, 12.0, 15.0]}, index=days)
    sparse = pd.DataFrame({"Close": [100.0, 50.0]}, index=days[[1, 3]])
    hold = buy_and_hold(days, 1_000.0, [PriceSeries("A", daily), PriceSeries("B", sparse)])
    # A: 1, 1.1, 1.2, 1.5; B: 1 (before its first bar), 1, 1 (carried), 0.5.
    np.testing.assert_allclose(hold, [1_000.0, 1_050.0, 1_100.0, 1_000.0])


def test_writing_the_report_again_gives_the_same_bytes(
    tmp_path: Path, bracket_run: tuple[Path, RunOutput]
) -> None:
    folder, _ = bracket_run
    copy = tmp_path / "run"
    copy.mkdir()
    for name in ("equity.parquet", "trades.parquet", "indicators.csv", "indicators.json"):
        (copy / name).write_bytes((folder / name).read_bytes())
    manifest = {
        "run_id": "bracket",
        "config": make_config(data__symbol="GOOG", strategy__params=PARAMS).model_dump(
            mode="json", by_alias=True
        ),
    }
    first = report_for_run_dir(copy, manifest).read_bytes()
    (copy / "report.html").unlink()
    assert report_for_run_dir(copy, manifest).read_bytes() == first
