"""A single self-contained HTML report of one run.

The plotly.js bundle is inlined so the file opens offline (air-gapped machines,
CI artifacts). Long series are downsampled by the rules stated in
`report_downsample` (and on the page itself), so a million-bar run opens in
seconds; trade markers are never dropped. A failed run's report shows its error
and the events it logged, and only the panels its files have data for.
"""

from __future__ import annotations

import html
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from isoloop.results.report_downsample import MAX_CANDLES, MAX_POINTS, decimate
from isoloop.results.report_panels import PriceSeries, figure
from isoloop.results.report_tables import (
    SORT_SCRIPT,
    STYLE,
    data_table,
    drawdowns_table,
    error_box,
    events_table,
    params_table,
    stats_table,
    trades_table_html,
)
from isoloop.results.rundir import IndicatorLike

__all__ = [
    "MAX_CANDLES",
    "MAX_POINTS",
    "PriceSeries",
    "RunFacts",
    "decimate",
    "write_failed_report",
    "write_report",
]


class RunFacts:
    """What a report says about a run besides its series: parameters, data, error, events."""

    __slots__ = ("data", "error", "events", "events_total", "params", "strategy")

    def __init__(
        self,
        *,
        strategy: str | None = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Mapping[str, Any]] | None = None,
        error: Mapping[str, Any] | None = None,
        events: Sequence[Mapping[str, Any]] = (),
        events_total: int | None = None,
    ) -> None:
        self.strategy = strategy
        self.params = dict(params or {})
        self.data = dict(data or {})
        self.error = error
        self.events = list(events)
        self.events_total = len(self.events) if events_total is None else events_total

    def header(self, stats: Mapping[str, float]) -> str:
        """The error box (failed runs), then stats, parameters and data side by side."""
        about = params_table(self.strategy, self.params) if self.strategy or self.params else ""
        about += data_table(self.data) if self.data else ""
        parts = [stats_table(stats)] if stats else []
        parts += [f"<div>{about}</div>"] if about else []
        box = error_box(self.error) if self.error is not None else ""
        return f'{box}<div class="row">{"".join(parts)}</div>'

    def footer(self) -> str:
        return events_table(self.events, self.events_total) if self.error is not None else ""


def _prices(ohlc: pd.DataFrame | Sequence[PriceSeries]) -> list[PriceSeries]:
    if isinstance(ohlc, pd.DataFrame):
        # One frame: every trade is drawn on it, whatever symbol the trades name.
        return [PriceSeries(None, ohlc)]
    return list(ohlc)


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}<script>{SORT_SCRIPT}</script></body></html>\n"
    )


def _write(path: Path, document: str) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    # A sibling temp file renamed over the report: a full disk or a crash mid-write
    # leaves the previous report (or none), never a truncated one.
    temp = out.with_name(f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        temp.write_text(document, encoding="utf-8")
        os.replace(temp, out)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return out


def write_report(
    path: Path,
    *,
    title: str,
    index: np.ndarray | pd.DatetimeIndex,
    equity: np.ndarray,
    trades: pd.DataFrame,
    ohlc: pd.DataFrame | Sequence[PriceSeries],
    stats: Mapping[str, float],
    indicators: Sequence[IndicatorLike] = (),
    facts: RunFacts | None = None,
    warmup_bars: int = 0,
    values: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write the report and return its path.

    Price (candles and volume, one panel pair per symbol when `ohlc` is a sequence
    of `PriceSeries`), trades with their P&L, equity with buy-and-hold, drawdown,
    the stats, and the tables of `facts` (parameters, data fingerprints, a failed
    run's error and events). Buy-and-hold starts at bar `warmup_bars`, as the
    `buy_hold_return_pct` stat does; `values` (each symbol's position value, for a
    portfolio) are drawn with the equity. `indicators` with `plot` set are drawn by name:
    `overlay` ones on the (first) price chart, each other one in its own panel.
    """
    eq = np.asarray(equity, dtype="float64")
    idx = pd.DatetimeIndex(np.asarray(index, dtype="datetime64[ns]"))
    if idx.size != eq.size:
        raise ValueError(f"index ({idx.size}) and equity ({eq.size}) must have the same length")
    facts = facts or RunFacts()
    fig, notes = figure(idx, eq, trades, _prices(ohlc), indicators, warmup_bars, values)
    plot = fig.to_html(
        include_plotlyjs=True,
        full_html=False,
        div_id="isoloop-report",
        config={"responsive": True, "displaylogo": False},
    )
    note = "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes)
    body = (
        f"{facts.header(stats)}{note}{plot}"
        f'<div class="row">{drawdowns_table(idx, eq)}</div>'
        f"{trades_table_html(trades)}{facts.footer()}"
    )
    return _write(path, _document(title, body))


def write_failed_report(
    path: Path, *, title: str, facts: RunFacts, stats: Mapping[str, float] | None = None
) -> Path:
    """The report of a run that left no equity: its error, parameters, data and events."""
    body = (
        f"{facts.header(stats or {})}"
        '<p class="note">The run stopped before it recorded an equity curve; '
        "no charts are drawn.</p>"
        f"{facts.footer()}"
    )
    return _write(path, _document(title, body))
