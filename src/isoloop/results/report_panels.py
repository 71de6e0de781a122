"""The report's figure: one shared time axis from price down to drawdown.

Rows, top to bottom: for each symbol its candles (overlay indicators and trades
on them) and its volume; each non-overlay indicator in its own panel; each
trade's return at its exit; equity with buy-and-hold; drawdown with the
deepest point and the longest drawdown marked. All rows share the x axis, so a
zoom or pan in one panel moves every panel.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from isoloop.results.benchmark import basket_value
from isoloop.results.report_downsample import aggregate_candles, decimate
from isoloop.results.report_trades import SHORT, pnl_trace, sl_tp_traces, trade_traces
from isoloop.results.rundir import IndicatorLike

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["Drawdown", "PriceSeries", "buy_and_hold", "drawdowns", "figure"]

# Indicator lines: colours apart from the trade markers' green and red.
_LINE_COLORS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


@dataclass(frozen=True, slots=True)
class PriceSeries:
    """One symbol's bars; `symbol` None when the run has one symbol and trades say none."""

    symbol: str | None
    ohlc: pd.DataFrame


@dataclass(frozen=True, slots=True)
class Drawdown:
    """One stretch under water: from the peak bar to the recovery bar (or the last bar)."""

    start: int
    trough: int
    end: int
    depth_pct: float
    recovered: bool


def drawdowns(equity: np.ndarray) -> list[Drawdown]:
    """Every drawdown of `equity`, in time order."""
    eq = np.asarray(equity, dtype="float64")
    if eq.size == 0:
        return []
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = eq / np.fmax.accumulate(eq) - 1.0
    under = np.nan_to_num(dd) < 0
    edges = np.diff(np.concatenate([[0], under.astype(np.int8), [0]]))
    out: list[Drawdown] = []
    for first, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        trough = int(first + np.nanargmin(dd[first:stop]))
        out.append(
            Drawdown(
                start=max(int(first) - 1, 0),
                trough=trough,
                end=int(stop) if stop < eq.size else eq.size - 1,
                depth_pct=float(dd[trough] * 100),
                recovered=bool(stop < eq.size),
            )
        )
    return out


def buy_and_hold(
    index: pd.DatetimeIndex,
    start_equity: float,
    prices: Sequence[PriceSeries],
    warmup_bars: int = 0,
) -> np.ndarray:
    """The starting equity held in an equal-weighted basket of the symbols' closes.

    The stated benchmark rule: each close is carried forward onto the run's clock
    and taken relative to its close at the end of the warm-up (bar `warmup_bars`,
    where `buy_hold_return_pct` starts too); before that, and before a symbol's
    first bar, a leg stays at 1.0.
    """
    if not prices or index.size == 0:
        return np.full(index.size, np.nan)
    aligned = []
    for price in prices:
        close = pd.Series(
            price.ohlc["Close"].to_numpy(dtype="float64"), index=pd.DatetimeIndex(price.ohlc.index)
        )
        close = close[~close.index.duplicated(keep="last")].dropna()
        if not close.empty:
            aligned.append(
                close.reindex(close.index.union(index)).ffill().reindex(index).to_numpy()
            )
    # The stats' own benchmark (results/benchmark.py), so the line and the stat agree.
    return np.asarray(start_equity * basket_value(aligned, warmup_bars), dtype="float64")


def _line(
    x: pd.DatetimeIndex, y: np.ndarray, name: str, color: str, dash: str = "solid", **extra: object
) -> go.Scatter:
    import plotly.graph_objects as go

    keep = decimate(y)
    line = {"width": 1.3, "color": color, "dash": dash}
    return go.Scatter(x=x[keep], y=y[keep], mode="lines", name=name, line=line, **extra)


def _indicator_traces(
    indicator: IndicatorLike, index: pd.DatetimeIndex, colors: Iterator[str]
) -> list[go.Scatter]:
    """One line per indicator line, named by it, grouped in the legend by the indicator."""
    matrix = np.atleast_2d(np.asarray(indicator.values, dtype="float64"))
    if matrix.shape[1] != index.size:
        raise ValueError(
            f"indicator {indicator.name!r} has {matrix.shape[1]} values for {index.size} bars"
        )
    return [
        _line(index, line, label, next(colors), legendgroup=indicator.name, hoverinfo="x+y+name")
        for label, line in zip(indicator.lines, matrix, strict=True)
    ]


def _candles(price: PriceSeries, label: str) -> tuple[list[go.BaseTraceType], int]:
    import plotly.graph_objects as go

    candles, bucket = aggregate_candles(price.ohlc)
    x = pd.DatetimeIndex(candles.index)
    traces: list[go.BaseTraceType] = [
        go.Candlestick(
            x=x,
            open=candles["Open"],
            high=candles["High"],
            low=candles["Low"],
            close=candles["Close"],
            name=label,
            showlegend=False,
            # Muted candles so the long/short trade markers stand out.
            increasing={"line": {"color": "#8c8c8c"}, "fillcolor": "#ffffff"},
            decreasing={"line": {"color": "#4d4d4d"}, "fillcolor": "#4d4d4d"},
        )
    ]
    if "Volume" in candles.columns and candles["Volume"].notna().any():
        traces.append(
            go.Bar(
                x=x,
                y=candles["Volume"],
                name=f"{label} volume",
                showlegend=False,
                marker={"color": "#9e9e9e", "line": {"width": 0}},
                hoverinfo="x+y",
            )
        )
    return traces, bucket


def _symbol_trades(trades: pd.DataFrame, price: PriceSeries) -> pd.DataFrame:
    if price.symbol is None or "symbol" not in trades.columns:
        return trades
    return trades[trades["symbol"].astype(str) == price.symbol]


def figure(
    index: pd.DatetimeIndex,
    equity: np.ndarray,
    trades: pd.DataFrame,
    prices: Sequence[PriceSeries],
    indicators: Sequence[IndicatorLike] = (),
    warmup_bars: int = 0,
    values: Mapping[str, np.ndarray] | None = None,
) -> tuple[go.Figure, list[str]]:
    """The figure and the notes that state how its series were downsampled.

    `values` (a portfolio's position value per symbol) are drawn with the equity.
    """
    # Imported here so sweep workers importing isoloop.results do not pay for plotly.
    from plotly.subplots import make_subplots

    drawn = [ind for ind in indicators if ind.plot]
    overlays = [ind for ind in drawn if ind.overlay]
    panels = [ind for ind in drawn if not ind.overlay]
    labels = [p.symbol or "Price" for p in prices]
    with_volume = [
        "Volume" in p.ohlc.columns and bool(p.ohlc["Volume"].notna().any()) for p in prices
    ]
    rows: list[tuple[str, float]] = []
    for label, vol in zip(labels, with_volume, strict=True):
        rows.append((f"{label} and trades", 0.42 if len(prices) == 1 else 0.3))
        if vol:
            rows.append(("Volume" if label == "Price" else f"{label} volume", 0.08))
    rows += [(p.name, 0.15) for p in panels]
    rows += [
        ("Trade return [%] (marker size: |P&L|)", 0.13),
        ("Equity", 0.25),
        ("Drawdown [%]", 0.15),
    ]
    total = sum(h for _, h in rows)
    fig = make_subplots(
        rows=len(rows),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.04, 0.3 / len(rows)),
        row_heights=[h / total for _, h in rows],
        subplot_titles=[t for t, _ in rows],
    )
    notes: list[str] = []
    row = 1
    price_rows: list[int] = []
    for price, label, vol in zip(prices, labels, with_volume, strict=True):
        price_rows.append(row)
        candle_traces, bucket = _candles(price, label)
        fig.add_trace(candle_traces[0], row=row, col=1)
        if vol:
            fig.add_trace(candle_traces[1], row=row + 1, col=1)
        if bucket > 1:
            notes.append(
                f"{label}: {len(price.ohlc):,} bars drawn as {-(-len(price.ohlc) // bucket):,} "
                f"candles of {bucket:,} bars each (first open, highest high, lowest low, "
                "last close; volume summed)."
            )
        row += 2 if vol else 1
    colors = itertools.cycle(_LINE_COLORS)
    for ind in overlays if price_rows else ():
        for trace in _indicator_traces(ind, index, colors):
            fig.add_trace(trace, row=price_rows[0], col=1)
    for ind in panels:
        for trace in _indicator_traces(ind, index, colors):
            fig.add_trace(trace, row=row, col=1)
        row += 1
    for nth, (price, price_row) in enumerate(zip(prices, price_rows, strict=True)):
        own = _symbol_trades(trades, price)
        bars = pd.DatetimeIndex(price.ohlc.index)
        for trace in (*sl_tp_traces(own, bars), *trade_traces(own, bars)):
            # One legend entry per kind, toggling that kind on every symbol's panel.
            trace.update(legendgroup=trace.name, showlegend=nth == 0)
            fig.add_trace(trace, row=price_row, col=1)
    pnl = pnl_trace(trades, index)
    if pnl is not None:
        fig.add_trace(pnl, row=row, col=1)
    fig.add_hline(y=0, line={"width": 1, "color": "#bbb"}, row=row, col=1)
    row += 1
    _equity_rows(fig, row, index, equity, prices, warmup_bars)
    # A portfolio's equity split by symbol: each position's value next to the total.
    for symbol, curve in sorted((values or {}).items()):
        fig.add_trace(
            _line(
                index,
                np.asarray(curve, dtype="float64"),
                f"{symbol} position value",
                next(colors),
                dash="dot",
                hoverinfo="x+y+name",
            ),
            row=row,
            col=1,
        )
    if equity.size > 20_000:
        notes.append(
            f"Lines: {equity.size:,} points each kept as the minimum and maximum of buckets "
            "(at most 20,000 points), so extremes and drawdown troughs survive."
        )
    fig.update_layout(
        height=260 * len(prices) + 170 * len(panels) + 760,
        # The legend sits in the top margin, above the first panel's title.
        margin={"l": 60, "r": 20, "t": 100, "b": 30},
        hovermode="closest",
        legend={"orientation": "h", "yanchor": "top", "y": 0.995, "x": 0, "yref": "container"},
        bargap=0,
    )
    fig.update_xaxes(rangeslider_visible=False)
    return fig, notes


def _equity_rows(
    fig: go.Figure,
    row: int,
    index: pd.DatetimeIndex,
    equity: np.ndarray,
    prices: Sequence[PriceSeries],
    warmup_bars: int,
) -> None:
    import plotly.graph_objects as go

    fig.add_trace(_line(index, equity, "equity", "#2166ac"), row=row, col=1)
    if equity.size:
        hold = buy_and_hold(index, float(equity[0]), prices, warmup_bars)
        if not np.isnan(hold).all():
            name = "buy and hold" if len(prices) == 1 else "buy and hold (equal-weight basket)"
            fig.add_trace(_line(index, hold, name, "#999999"), row=row, col=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = (equity / np.fmax.accumulate(equity) - 1.0) * 100 if equity.size else equity
    fig.add_trace(
        _line(index, dd, "drawdown", SHORT, fill="tozeroy", showlegend=False), row=row + 1, col=1
    )
    spells = drawdowns(equity)
    if not spells:
        return
    deepest = min(spells, key=lambda d: (d.depth_pct, d.start))
    longest = max(spells, key=lambda d: (index[d.end] - index[d.start], -d.start))
    days = (index[longest.end] - index[longest.start]) / pd.Timedelta(days=1)
    fig.add_trace(
        go.Scatter(
            x=[index[deepest.trough]],
            y=[deepest.depth_pct],
            mode="markers+text",
            name="max drawdown",
            text=[f"max drawdown {deepest.depth_pct:.1f}%"],
            textposition="middle left",
            cliponaxis=False,
            marker={"color": SHORT, "size": 8},
            showlegend=False,
        ),
        row=row + 1,
        col=1,
    )
    peak = float(equity[longest.start])
    fig.add_trace(
        go.Scatter(
            x=[index[longest.start], index[longest.end]],
            y=[peak, peak],
            mode="lines",
            name=f"longest drawdown ({days:,.0f} days{'' if longest.recovered else ', open'})",
            line={"width": 2.5, "color": SHORT},
        ),
        row=row,
        col=1,
    )
    fig.add_vrect(
        x0=index[longest.start],
        x1=index[longest.end],
        fillcolor=SHORT,
        opacity=0.08,
        line_width=0,
        row=row + 1,
        col=1,
    )
