"""A sweep's self-contained HTML report: best trial, heatmap of two parameters, trials table."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["write_sweep_report"]

_TABLE_KEYS = (
    "trial_id",
    "status",
    "sharpe_ratio",
    "return_pct",
    "max_drawdown_pct",
    "trades",
    "sqn",
)


def _table(trials: pd.DataFrame, params: Sequence[str], metric: str) -> str:
    cols = [c for c in ("trial_id", "status") if c in trials]
    cols += [c for c in params if c in trials]
    cols += [c for c in dict.fromkeys([metric, *_TABLE_KEYS[2:]]) if c in trials and c not in cols]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows = []
    for _, row in trials[cols].iterrows():
        cells = []
        for c in cols:
            v = row[c]
            cells.append(
                f"<td>{v:.4g}</td>" if isinstance(v, float) else f"<td>{html.escape(str(v))}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def write_sweep_report(
    path: Path,
    *,
    title: str,
    trials: pd.DataFrame,
    params: Sequence[str],
    metric: str,
    best: Mapping[str, Any] | None,
    best_equity: pd.Series | None,
) -> Path:
    """Write one offline HTML file (plotly.js inlined once)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    figures: list[str] = []
    first = True

    def add(fig: go.Figure) -> None:
        nonlocal first
        figures.append(pio.to_html(fig, full_html=False, include_plotlyjs=first))
        first = False

    if best_equity is not None and len(best_equity):
        fig = go.Figure(go.Scatter(x=best_equity.index, y=best_equity.to_numpy(), name="equity"))
        fig.update_layout(title="Best trial: equity", height=380, margin={"t": 50, "b": 30})
        add(fig)
    ok = trials[trials["status"] == "ok"] if "status" in trials else trials
    if len(params) >= 2 and metric in ok and len(ok):
        x, y = params[0], params[1]
        grid = ok.pivot_table(index=y, columns=x, values=metric, aggfunc="max")
        fig = go.Figure(
            go.Heatmap(
                z=grid.to_numpy(),
                x=[str(v) for v in grid.columns],
                y=[str(v) for v in grid.index],
                colorscale="Viridis",
                colorbar={"title": metric},
            )
        )
        fig.update_layout(
            title=f"{metric} by {x} and {y}", xaxis_title=x, yaxis_title=y, height=460
        )
        add(fig)
    elif len(params) == 1 and metric in ok and len(ok):
        fig = go.Figure(go.Scatter(x=ok[params[0]], y=ok[metric], mode="markers+lines"))
        fig.update_layout(title=f"{metric} by {params[0]}", height=380)
        add(fig)
    best_html = "<p>No successful trial.</p>"
    if best is not None:
        best_html = (
            "<p><b>Best trial</b> "
            + html.escape(", ".join(f"{k}={v}" for k, v in best.get("params", {}).items()))
            + f" — {html.escape(metric)} = {best.get('value', float('nan')):.4g}</p>"
        )
    counts = trials["status"].value_counts().to_dict() if "status" in trials else {}
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:24px}} table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}} th{{background:#f3f3f3}}</style>
</head><body><h1>{html.escape(title)}</h1>
<p>{len(trials)} trials ({html.escape(summary)})</p>{best_html}
{"".join(figures)}
<h2>Trials</h2>{_table(trials, params, metric)}
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
