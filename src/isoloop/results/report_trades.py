"""The traces a report draws for trades: entries, exits, P&L per trade, SL/TP levels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["LONG", "SHORT", "pnl_trace", "sl_tp_traces", "trade_times", "trade_traces"]

LONG = "#1a9850"
SHORT = "#d73027"


def trade_times(trades: pd.DataFrame, which: str, index: pd.DatetimeIndex) -> np.ndarray:
    """Entry or exit times: the `*_time` column, else the `*_bar` position in `index`."""
    col = f"{which}_time"
    if col in trades.columns:
        return pd.DatetimeIndex(pd.to_datetime(trades[col])).to_numpy()
    bars = trades[f"{which}_bar"].to_numpy(dtype="float64")
    ok = ~np.isnan(bars)
    out = np.full(bars.size, np.datetime64("NaT"), dtype="datetime64[ns]")
    if index.size:
        out[ok] = index.to_numpy()[np.clip(bars[ok].astype(np.int64), 0, len(index) - 1)]
    return out


def _column(trades: pd.DataFrame, name: str, scale: float = 1.0) -> np.ndarray:
    if name not in trades.columns:
        return np.full(len(trades), np.nan)
    return pd.to_numeric(trades[name], errors="coerce").to_numpy(dtype="float64") * scale


def _hover(trades: pd.DataFrame) -> list[str]:
    size = _column(trades, "size")
    pnl, ret = _column(trades, "pnl"), _column(trades, "return_pct", 100.0)
    return [
        f"size {s:g}<br>P&L {p:,.2f}<br>return {r:.2f}%"
        for s, p, r in zip(size, pnl, ret, strict=True)
    ]


def trade_traces(trades: pd.DataFrame, index: pd.DatetimeIndex) -> list[go.Scatter]:
    """Entry and exit markers (long green, short red), and each trade's entry→exit line.

    The lines are coloured by outcome, so winners and losers read at a glance, as on
    backtesting.py's chart.
    """
    import plotly.graph_objects as go

    if trades.empty:
        return []
    size = _column(trades, "size")
    entry_t, exit_t = trade_times(trades, "entry", index), trade_times(trades, "exit", index)
    entry_p, exit_p = _column(trades, "entry_price"), _column(trades, "exit_price")
    pnl = _column(trades, "pnl")
    text = _hover(trades)
    traces: list[go.Scatter] = []
    for name, won in (("winning trade", pnl > 0), ("losing trade", ~(pnl > 0))):
        mask = won & ~np.isnat(exit_t)
        xs: list[object] = []
        ys: list[float | None] = []
        for a, b, pa, pb in zip(
            entry_t[mask], exit_t[mask], entry_p[mask], exit_p[mask], strict=True
        ):
            xs.extend([a, b, None])
            ys.extend([float(pa), float(pb), None])
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=name,
                line={"width": 1.5, "dash": "dot", "color": LONG if name[0] == "w" else SHORT},
                hoverinfo="skip",
            )
        )
    for name, mask, color, symbol in (
        ("long entry", size > 0, LONG, "triangle-up"),
        ("short entry", size < 0, SHORT, "triangle-down"),
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
    for name, mask, color in (("long exit", size > 0, LONG), ("short exit", size < 0, SHORT)):
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


def sl_tp_traces(trades: pd.DataFrame, index: pd.DatetimeIndex) -> list[go.Scatter]:
    """A level line from entry to exit for each trade that had a stop-loss or take-profit."""
    import plotly.graph_objects as go

    if trades.empty:
        return []
    entry_t, exit_t = trade_times(trades, "entry", index), trade_times(trades, "exit", index)
    last = index[-1].to_datetime64() if index.size else None
    traces: list[go.Scatter] = []
    for name, color in (("sl", SHORT), ("tp", LONG)):
        level = _column(trades, name)
        mask = ~np.isnan(level)
        if not mask.any():
            continue
        xs: list[object] = []
        ys: list[float | None] = []
        for a, b, v in zip(entry_t[mask], exit_t[mask], level[mask], strict=True):
            xs.extend([a, last if np.isnat(b) else b, None])
            ys.extend([float(v), float(v), None])
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name="stop-loss" if name == "sl" else "take-profit",
                line={"width": 1.2, "dash": "dash", "color": color},
                hoverinfo="y+name",
            )
        )
    return traces


def pnl_trace(trades: pd.DataFrame, index: pd.DatetimeIndex) -> go.Scatter | None:
    """One marker per closed trade at its exit: its return in percent, sized by |P&L|."""
    import plotly.graph_objects as go

    if trades.empty:
        return None
    exit_t = trade_times(trades, "exit", index)
    ret, pnl = _column(trades, "return_pct", 100.0), _column(trades, "pnl")
    mask = ~np.isnat(exit_t)
    if not mask.any():
        return None
    magnitude = np.abs(np.nan_to_num(pnl[mask]))
    top = magnitude.max() if magnitude.size and magnitude.max() > 0 else 1.0
    won = pnl[mask] > 0
    text = [t for t, m in zip(_hover(trades), mask, strict=True) if m]
    return go.Scatter(
        x=exit_t[mask],
        y=ret[mask],
        mode="markers",
        name="trade P&L",
        marker={
            "symbol": np.where(won, "triangle-up", "triangle-down").tolist(),
            "color": np.where(won, LONG, SHORT).tolist(),
            "size": (7 + 11 * np.sqrt(magnitude / top)).round(2).tolist(),
            "line": {"width": 0.5, "color": "#222"},
        },
        text=text,
        hoverinfo="x+text",
    )
