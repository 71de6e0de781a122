"""A single self-contained HTML report of one run.

The plotly.js bundle is inlined so the file opens offline (air-gapped machines,
CI artifacts). Long series are decimated keeping each bucket's minimum and
maximum, so drawdown troughs and price extremes survive while the file stays
small; trade markers are never dropped.
"""

from __future__ import annotations

import html
import itertools
import math
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from isoloop.results.metrics import STATS_KEYS
from isoloop.results.rundir import IndicatorLike

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["MAX_POINTS", "decimate", "write_report"]

#: Above this many points a series is decimated (min/max per bucket).
MAX_POINTS = 20_000
#: Above this many bars price is drawn as a close line instead of candles.
MAX_CANDLES = 3_000

_LONG = "#1a9850"
_SHORT = "#d73027"
# Indicator lines: colours apart from the trade markers' green and red.
_LINE_COLORS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:1.4em;margin:0 0 12px}
table.stats{border-collapse:collapse;margin:0 0 16px;font-size:0.9em}
table.stats td{padding:2px 12px;border-bottom:1px solid #eee}
table.stats td.v{text-align:right;font-variant-numeric:tabular-nums}
"""


def decimate(values: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Sorted positions to keep: each bucket's min and max, plus the first and last point."""
    arr = np.asarray(values, dtype="float64")
    n = arr.size
    if n <= max_points:
        return np.arange(n)
    bucket = math.ceil(n / max(1, max_points // 2))
    full = (n // bucket) * bucket
    body = np.where(np.isnan(arr[:full]), np.inf, arr[:full]).reshape(-1, bucket)
    starts = np.arange(0, full, bucket)
    lows = starts + body.argmin(axis=1)
    highs = starts + np.where(np.isinf(body), -np.inf, body).argmax(axis=1)
    keep = [lows, highs, np.array([0, n - 1])]
    if full < n:
        tail = arr[full:]
        if np.isnan(tail).all():
            keep.append(np.array([full]))
        else:
            keep.extend([np.array([full + np.nanargmin(tail), full + np.nanargmax(tail)])])
    return np.unique(np.concatenate(keep))


def _format(key: str, value: float) -> str:
    if key == "trades":
        return f"{int(value):,}"
    if isinstance(value, float) and math.isnan(value):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if key.startswith("equity") or key == "commissions":
        return f"{value:,.2f}"
    return f"{value:,.4f}" if abs(value) < 100 else f"{value:,.2f}"


def _stats_table(stats: Mapping[str, float]) -> str:
    ordered = [k for k in STATS_KEYS if k in stats] + sorted(
        k for k in stats if k not in STATS_KEYS
    )
    rows = "".join(
        f'<tr><td>{html.escape(k)}</td><td class="v">{html.escape(_format(k, stats[k]))}</td></tr>'
        for k in ordered
    )
    return f'<table class="stats" id="stats">{rows}</table>'


def _times(trades: pd.DataFrame, which: str, index: pd.DatetimeIndex) -> np.ndarray:
    col = f"{which}_time"
    if col in trades.columns:
        return pd.DatetimeIndex(pd.to_datetime(trades[col])).to_numpy()
    bars = trades[f"{which}_bar"].to_numpy(dtype="float64")
    ok = ~np.isnan(bars)
    out = np.full(bars.size, np.datetime64("NaT"), dtype="datetime64[ns]")
    out[ok] = index.to_numpy()[np.clip(bars[ok].astype(np.int64), 0, len(index) - 1)]
    return out


def _trade_traces(trades: pd.DataFrame, index: pd.DatetimeIndex) -> list[go.Scatter]:
    import plotly.graph_objects as go

    if trades.empty:
        return []
    size = trades["size"].to_numpy(dtype="float64")
    entry_t, exit_t = _times(trades, "entry", index), _times(trades, "exit", index)
    entry_p = trades["entry_price"].to_numpy(dtype="float64")
    exit_p = trades["exit_price"].to_numpy(dtype="float64")
    pnl = trades["pnl"].to_numpy(dtype="float64") if "pnl" in trades else np.full(size.size, np.nan)
    ret = (
        trades["return_pct"].to_numpy(dtype="float64") * 100
        if "return_pct" in trades
        else np.full(size.size, np.nan)
    )
    text = [
        f"size {s:g}<br>PnL {p:,.2f}<br>return {r:.2f}%"
        for s, p, r in zip(size, pnl, ret, strict=True)
    ]
    traces: list[go.Scatter] = []
    for name, mask, color, symbol in (
        ("long entry", size > 0, _LONG, "triangle-up"),
        ("short entry", size < 0, _SHORT, "triangle-down"),
    ):
        traces.append(
            go.Scatter(
                x=entry_t[mask],
                y=entry_p[mask],
                mode="markers",
                name=name,
                marker={
                    "symbol": symbol,
                    "size": 10,
                    "color": color,
                    "line": {"width": 1, "color": "#222"},
                },
                text=[t for t, m in zip(text, mask, strict=True) if m],
                hoverinfo="x+y+text+name",
            )
        )
    for name, mask, color in (("long exit", size > 0, _LONG), ("short exit", size < 0, _SHORT)):
        traces.append(
            go.Scatter(
                x=exit_t[mask],
                y=exit_p[mask],
                mode="markers",
                name=name,
                marker={"symbol": "x", "size": 8, "color": color},
                text=[t for t, m in zip(text, mask, strict=True) if m],
                hoverinfo="x+y+text+name",
            )
        )
    return traces


def _indicator_traces(
    indicator: IndicatorLike, index: pd.DatetimeIndex, colors: Iterator[str]
) -> list[go.Scatter]:
    """One line per indicator line, named by it, grouped in the legend by the indicator."""
    import plotly.graph_objects as go

    matrix = np.atleast_2d(np.asarray(indicator.values, dtype="float64"))
    if matrix.shape[1] != index.size:
        raise ValueError(
            f"indicator {indicator.name!r} has {matrix.shape[1]} values for {index.size} bars"
        )
    traces: list[go.Scatter] = []
    for label, line in zip(indicator.lines, matrix, strict=True):
        keep = decimate(line)
        traces.append(
            go.Scatter(
                x=index[keep],
                y=line[keep],
                mode="lines",
                name=label,
                legendgroup=indicator.name,
                line={"width": 1.2, "color": next(colors)},
                hoverinfo="x+y+name",
            )
        )
    return traces


def _figure(
    index: pd.DatetimeIndex,
    equity: np.ndarray,
    trades: pd.DataFrame,
    ohlc: pd.DataFrame,
    indicators: Sequence[IndicatorLike] = (),
) -> go.Figure:
    # Imported here so sweep workers importing isoloop.results do not pay for plotly.
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    drawn = [ind for ind in indicators if ind.plot]
    overlays = [ind for ind in drawn if ind.overlay]
    panels = [ind for ind in drawn if not ind.overlay]
    # Price, then one panel per non-overlay indicator (below price, like the trades'
    # context they explain), then equity and drawdown.
    heights = [0.5, *([0.18] * len(panels)), 0.3, 0.2]
    fig = make_subplots(
        rows=len(heights),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04 if not panels else 0.1 / len(heights),
        row_heights=[h / sum(heights) for h in heights],
        subplot_titles=("Price and trades", *(p.name for p in panels), "Equity", "Drawdown [%]"),
    )
    eq_row = 2 + len(panels)
    price_index = pd.DatetimeIndex(ohlc.index)
    close = ohlc["Close"].to_numpy(dtype="float64")
    if len(ohlc) <= MAX_CANDLES:
        fig.add_trace(
            go.Candlestick(
                x=price_index,
                open=ohlc["Open"],
                high=ohlc["High"],
                low=ohlc["Low"],
                close=ohlc["Close"],
                name="price",
                showlegend=False,
                # Muted candles so the long/short trade markers stand out.
                increasing={"line": {"color": "#8c8c8c"}, "fillcolor": "#ffffff"},
                decreasing={"line": {"color": "#4d4d4d"}, "fillcolor": "#4d4d4d"},
            ),
            row=1,
            col=1,
        )
    else:
        keep = decimate(close)
        fig.add_trace(
            go.Scatter(
                x=price_index[keep],
                y=close[keep],
                mode="lines",
                name="close",
                line={"width": 1, "color": "#555"},
            ),
            row=1,
            col=1,
        )
    colors = itertools.cycle(_LINE_COLORS)
    for ind in overlays:
        for trace in _indicator_traces(ind, index, colors):
            fig.add_trace(trace, row=1, col=1)
    for row, ind in enumerate(panels, start=2):
        for trace in _indicator_traces(ind, index, colors):
            fig.add_trace(trace, row=row, col=1)
    for trace in _trade_traces(trades, price_index):
        fig.add_trace(trace, row=1, col=1)

    keep = decimate(equity)
    fig.add_trace(
        go.Scatter(
            x=index[keep],
            y=equity[keep],
            mode="lines",
            name="equity",
            line={"width": 1.5, "color": "#2166ac"},
        ),
        row=eq_row,
        col=1,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        drawdown = (equity / np.maximum.accumulate(equity) - 1.0) * 100
    keep = decimate(drawdown)
    fig.add_trace(
        go.Scatter(
            x=index[keep],
            y=drawdown[keep],
            mode="lines",
            name="drawdown",
            fill="tozeroy",
            line={"width": 1, "color": _SHORT},
        ),
        row=eq_row + 1,
        col=1,
    )
    fig.update_layout(
        height=900 + 180 * len(panels),
        margin={"l": 60, "r": 20, "t": 40, "b": 30},
        hovermode="closest",
        legend={"orientation": "h", "y": 1.06, "x": 0},
    )
    fig.update_xaxes(rangeslider_visible=False)
    return fig


def write_report(
    path: Path,
    *,
    title: str,
    index: np.ndarray | pd.DatetimeIndex,
    equity: np.ndarray,
    trades: pd.DataFrame,
    ohlc: pd.DataFrame,
    stats: Mapping[str, float],
    indicators: Sequence[IndicatorLike] = (),
) -> Path:
    """Write the report (equity, drawdown, price with trades, stats table) and return its path.

    `indicators` with `plot` set are drawn by name: `overlay` ones on the price chart,
    each other one in its own panel under it.
    """
    eq = np.asarray(equity, dtype="float64")
    idx = pd.DatetimeIndex(np.asarray(index, dtype="datetime64[ns]"))
    if idx.size != eq.size:
        raise ValueError(f"index ({idx.size}) and equity ({eq.size}) must have the same length")
    figure = _figure(idx, eq, trades, ohlc, indicators)
    plot = figure.to_html(
        include_plotlyjs=True,
        full_html=False,
        div_id="isoloop-report",
        config={"responsive": True, "displaylogo": False},
    )
    document = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{_stats_table(stats)}{plot}</body></html>\n"
    )
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
