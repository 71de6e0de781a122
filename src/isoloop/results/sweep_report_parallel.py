"""Parallel coordinates for a sweep report, drawn as plain SVG lines.

Plotly's `parcoords` trace needs WebGL; without a GPU (headless Chromium, remote
desktops) its software fallback took ~9 s for 1,000 lines here, longer than the
rest of a 10k-trial report together. Lines on a scatter plot draw in a fraction
of that and look the same: one vertical axis per parameter and one for the
objective, each scaled to its own range (a non-numeric parameter: its values
evenly spaced in sorted order), one line per trial, coloured by the objective's
quintile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from isoloop.results.sweep_report_analysis import level_codes

__all__ = ["PARALLEL_LINES", "parallel_figure"]

#: Most trials drawn (the best half of them, then an even stride of the rest).
PARALLEL_LINES = 1000

_COLOURS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")  # viridis, low to high


def _axis(column: pd.Series) -> tuple[np.ndarray, str, str]:
    """Positions in [0, 1] and the labels of the axis' bottom and top."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=float)
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        span = hi - lo
        scaled = (values - lo) / span if span > 0 else np.full(len(values), 0.5)
        return scaled, f"{lo:.4g}", f"{hi:.4g}"
    codes, labels = level_codes(column)
    top = max(len(labels) - 1, 1)
    return codes / top, labels[0] if labels else "", labels[-1] if labels else ""


def _pick(ok: pd.DataFrame, metric: str, direction: str) -> tuple[pd.DataFrame, str]:
    if len(ok) <= PARALLEL_LINES:
        return ok, ""
    ranked = ok.sort_values([metric, "trial_id"], ascending=[direction != "maximize", True])
    top = ranked.iloc[: PARALLEL_LINES // 2]
    rest = ranked.iloc[PARALLEL_LINES // 2 :]
    picks = np.unique(np.linspace(0, len(rest) - 1, PARALLEL_LINES - len(top)).round())
    frame = pd.concat([top, rest.iloc[picks.astype(int)]]).sort_values("trial_id")
    return frame, (
        f" {len(ok)} trials: drawn are the best {len(top)} and an even stride of the rest "
        f"({len(frame)} lines)."
    )


def parallel_figure(
    ok: pd.DataFrame, params: Sequence[str], metric: str, direction: str
) -> tuple[Any, str]:
    """The figure and the note under its heading."""
    import plotly.graph_objects as go

    frame, thinned = _pick(ok, metric, direction)
    columns = [*params, metric]
    names = [str(c).removeprefix("param.") for c in columns]
    axes = [_axis(frame[c]) for c in columns]
    ys = np.stack([a[0] for a in axes], axis=1)
    objective = frame[metric].to_numpy(dtype=float)
    ranks = np.argsort(np.argsort(objective, kind="stable"), kind="stable")
    group = (ranks * len(_COLOURS)) // max(len(objective), 1)
    fig = go.Figure()
    xs = list(range(len(columns)))
    for g, colour in enumerate(_COLOURS):
        rows = np.flatnonzero(group == g)
        if not len(rows):
            continue
        x: list[float | None] = []
        y: list[float | None] = []
        for r in rows:
            x += [*xs, None]
            y += [*ys[r].tolist(), None]
        lo, hi = objective[rows].min(), objective[rows].max()
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                line={"color": colour, "width": 1},
                opacity=0.45,
                name=f"{metric} {lo:.3g} to {hi:.3g}",
                hoverinfo="skip",
            )
        )
    for i, (_, low, high) in enumerate(axes):
        fig.add_vline(x=i, line={"color": "#333", "width": 1})
        fig.add_annotation(x=i, y=1.02, text=high, showarrow=False, yanchor="bottom")
        fig.add_annotation(x=i, y=-0.02, text=low, showarrow=False, yanchor="top")
    fig.update_layout(
        height=440,
        margin={"t": 40, "b": 60},
        plot_bgcolor="white",
        xaxis={"tickvals": xs, "ticktext": names, "side": "bottom", "showgrid": False},
        yaxis={"visible": False, "range": [-0.12, 1.12]},
        legend={"title": {"text": "objective quintile"}},
    )
    note = (
        "One line per ok trial across one axis per parameter and the objective (each "
        "axis spans its own range: bottom and top values shown), coloured by the "
        f"objective's quintile.{thinned}"
    )
    return fig, note
