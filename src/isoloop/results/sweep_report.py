"""A sweep's self-contained HTML report (plotly.js inlined once, no network).

Panels: the best trial's equity, optimization history with the best-so-far line,
parameter importances, parallel coordinates, a heatmap of any two parameters
(picked in the page), the objective's distribution, a robustness view (each
trial's neighbourhood mean), the Pareto front of a multi-objective sweep, and the
trials table with filters. A walk-forward sweep gets its windows and stitched
out-of-sample curve instead of the single-sweep panels (see
`sweep_report_walkforward`). The numbers come from `sweep_report_analysis`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from isoloop.results.sweep_report_analysis import (
    HISTORY_POINTS,
    MAX_LEVELS,
    best_so_far,
    history_keep,
    level_codes,
    neighbourhood_means,
    param_importances,
    scatter_keep,
)
from isoloop.results.sweep_report_page import STYLE, heatmap_section, page_script, table_section
from isoloop.results.sweep_report_parallel import parallel_figure
from isoloop.results.sweep_report_walkforward import walk_forward_sections

__all__ = ["write_sweep_report"]


_TABLE_KEYS = ("return_pct", "sharpe_ratio", "max_drawdown_pct", "trades", "sqn")


class _Figures:
    """Plotly figures as HTML fragments; plotly.js goes into the page's head once."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, section: str, heading: str, fig: Any, note: str = "") -> None:
        import plotly.io as pio

        plot = pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=f"{section}-plot")
        text = f'<p class="note">{note}</p>' if note else ""
        self.parts.append(
            f'<section id="{section}"><h2>{html.escape(heading)}</h2>{text}{plot}</section>'
        )

    def raw(self, fragment: str) -> None:
        self.parts.append(fragment)


def _best_row(ok: pd.DataFrame, metric: str, direction: str) -> pd.Series | None:
    scored = ok[ok[metric].notna()]
    if scored.empty:
        return None
    ascending = direction != "maximize"
    return scored.sort_values([metric, "trial_id"], ascending=[ascending, True]).iloc[0]


def _summary(trials: pd.DataFrame, title: str, extra: str) -> str:
    counts = trials["status"].value_counts().to_dict() if "status" in trials else {}
    shown = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    return (
        f'<h1>{html.escape(title)}</h1><section id="summary">'
        f"<p>{len(trials)} trials ({html.escape(shown)})</p>{extra}</section>"
    )


def _history(figs: _Figures, ok: pd.DataFrame, metric: str, direction: str) -> None:
    import plotly.graph_objects as go

    ids = ok["trial_id"].to_numpy()
    values = ok[metric].to_numpy(dtype=float)
    keep = history_keep(values, direction)
    best = best_so_far(values, direction)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=ids[keep], y=values[keep], mode="markers", name=metric, marker={"size": 5})
    )
    fig.add_trace(go.Scatter(x=ids, y=best, mode="lines", name="best so far", line_shape="hv"))
    fig.update_layout(xaxis_title="trial id", yaxis_title=metric, height=380, margin={"t": 30})
    note = "The objective of every ok trial in trial-id order (Optuna's trial number)."
    if len(keep) < len(values):
        note += (
            f" {len(values)} trials: the markers are the {len(keep)} kept by the rule "
            f"'every trial that set a new best, plus an even stride of the rest, "
            f"{HISTORY_POINTS} in all'; the line uses every trial."
        )
    figs.add("history", "Optimization history", fig, note)


def _importances(figs: _Figures, shares: Mapping[str, float], metric: str) -> None:
    import plotly.graph_objects as go

    order = sorted(shares, key=lambda k: shares[k])
    names = [k.removeprefix("param.") for k in order]
    fig = go.Figure(go.Bar(x=[shares[k] for k in order], y=names, orientation="h"))
    fig.update_layout(
        xaxis_title="share of explained variance",
        yaxis={"type": "category"},
        height=max(240, 120 + 40 * len(order)),
        margin={"t": 30},
    )
    note = (
        f"Main-effect share of {html.escape(metric)}'s variance per parameter: the ok trials "
        "are grouped by the parameter's value (numeric parameters with more than "
        f"{MAX_LEVELS} values: {MAX_LEVELS} equal-count bins), the correlation ratio "
        "&eta;&sup2; (variance of the group means over the total variance) is computed for "
        "each parameter and the ratios are scaled to sum to 1. Interactions are not counted."
    )
    figs.add("importances", "Parameter importances", fig, note)


def _distribution(figs: _Figures, values: np.ndarray, metric: str) -> None:
    import plotly.graph_objects as go

    fig = go.Figure(go.Histogram(x=values, nbinsx=min(60, max(10, len(values) // 5))))
    fig.update_layout(xaxis_title=metric, yaxis_title="trials", height=320, margin={"t": 30})
    figs.add("distribution", "Objective distribution", fig, "Ok trials with a defined objective.")


def _robustness(
    figs: _Figures,
    ok: pd.DataFrame,
    values: np.ndarray,
    means: np.ndarray,
    counts: np.ndarray,
    metric: str,
    direction: str,
    best_id: int | None,
) -> None:
    import plotly.graph_objects as go

    ids = ok["trial_id"].to_numpy()
    keep = scatter_keep(values, means, direction)
    fig = go.Figure(
        go.Scatter(
            x=values[keep],
            y=means[keep],
            mode="markers",
            marker={"size": 6, "color": "#1f77b4", "opacity": 0.7},
            customdata=np.stack([ids[keep], counts[keep]], axis=1),
            hovertemplate="trial %{customdata[0]}<br>own=%{x:.4g}<br>neighbourhood=%{y:.4g}"
            "<br>trials in it=%{customdata[1]}<extra></extra>",
            name="trials",
        )
    )
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    fig.add_trace(
        go.Scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="lines",
            name="neighbourhood = own",
            line={"dash": "dot", "color": "#999"},
        )
    )
    fig.update_layout(
        xaxis_title=f"trial's own {metric}",
        yaxis_title="neighbourhood mean",
        height=420,
        margin={"t": 40},
        legend={"orientation": "h", "y": 1.08},
    )
    sign = 1.0 if direction == "maximize" else -1.0
    order = np.lexsort((ids, -sign * means))[:10]
    rows = "".join(
        f"<tr><td>{ids[i]}</td><td>{means[i]:.4g}</td><td>{values[i]:.4g}</td><td>{counts[i]}</td></tr>"
        for i in order
    )
    about = ""
    if best_id is not None and best_id in set(ids.tolist()):
        b = int(np.flatnonzero(ids == best_id)[0])
        about = (
            f'<p id="robustness-best">Best trial {best_id}: {metric} {values[b]:.4g}, its '
            f"neighbourhood's mean {means[b]:.4g} over {counts[b]} trials.</p>"
        )
    note = (
        "A trial's neighbourhood is every ok trial within one step of it on every parameter "
        f"(one step: the next distinct value, or the next of {MAX_LEVELS} equal-count bins of a "
        "numeric parameter with more values), itself included. Points far below the dotted line "
        "are lone spikes; points near it at the top are plateaus."
    )
    if len(keep) < len(values):
        note += (
            f" {len(values)} trials: drawn are {len(keep)}, the best {HISTORY_POINTS // 4} by "
            "neighbourhood mean and by own value plus an even stride of the rest."
        )
    figs.add("robustness", "Robustness: neighbourhood means", fig, note)
    figs.raw(
        f'{about}<table id="robust-table"><thead><tr><th>trial_id</th><th>neighbourhood mean</th>'
        f"<th>own {html.escape(metric)}</th><th>trials</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _pareto(figs: _Figures, ok: pd.DataFrame, objectives: Sequence[tuple[str, str]]) -> None:
    import plotly.graph_objects as go

    (a, da), (b, db) = objectives[0], objectives[1]
    front = ok[ok["pareto"].astype(bool)] if "pareto" in ok else ok.iloc[0:0]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=ok[a],
            y=ok[b],
            mode="markers",
            name="trials",
            marker={"color": "#bbb", "size": 5},
            text=ok["trial_id"],
        )
    )
    front = front.sort_values(a)
    fig.add_trace(
        go.Scatter(
            x=front[a],
            y=front[b],
            mode="markers+lines",
            name="Pareto front",
            marker={"color": "#d62728", "size": 8},
            text=front["trial_id"],
        )
    )
    fig.update_layout(xaxis_title=f"{a} ({da})", yaxis_title=f"{b} ({db})", height=420)
    names = ", ".join(f"{html.escape(n)} ({d})" for n, d in objectives)
    keys = [c for c in ok.columns if str(c).startswith("param.")]
    head = "".join(
        f"<th>{html.escape(str(c).removeprefix('param.'))}</th>"
        for c in ["trial_id", *keys, *(n for n, _ in objectives)]
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(_cell(r[c]))}</td>"
            for c in ["trial_id", *keys, *(n for n, _ in objectives)]
        )
        + "</tr>"
        for _, r in front.sort_values("trial_id").iterrows()
    )
    note = (
        f"{len(front)} trials that no other ok trial beats on every objective: {names}. "
        "The plot shows the first two objectives."
    )
    figs.add("pareto", "Pareto front", fig, note)
    figs.raw(
        f'<table id="pareto-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    )


def _cell(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _table(
    figs: _Figures,
    trials: pd.DataFrame,
    params: Sequence[str],
    metrics: Sequence[str],
    extra: Mapping[str, Sequence[Any]],
) -> None:
    cols = [c for c in ("window", "trial_id", "status") if c in trials]
    cols += [c for c in params if c in trials]
    cols += [c for c in dict.fromkeys([*metrics, *_TABLE_KEYS]) if c in trials and c not in cols]
    frame = trials[cols].copy()
    for name, column in extra.items():
        frame[name] = column
    if "pareto" in trials and len(metrics) > 1:
        frame["pareto"] = trials["pareto"].astype(bool).map({True: "yes", False: ""})
    if "error" in trials:
        frame["error"] = trials["error"].where(trials["error"].notna(), "")
    names = [str(c).removeprefix("param.") for c in frame.columns]
    figs.raw(table_section(frame, names))


def write_sweep_report(
    path: Path,
    *,
    title: str,
    trials: pd.DataFrame,
    params: Sequence[str],
    metric: str,
    best: Mapping[str, Any] | None,
    best_equity: pd.Series | None,
    objectives: Sequence[tuple[str, str]] = (),
    windows: Sequence[Mapping[str, Any]] = (),
    warnings: Sequence[str] = (),
) -> Path:
    """Write one offline HTML file; `params` are the trials' `param.*` columns.

    `objectives` are (name, direction) pairs, the first one `metric`'s (default:
    maximize). `windows` (walk-forward) are the windows as summary.json holds them;
    then `best_equity` is the stitched out-of-sample curve.
    """
    from plotly.offline import get_plotlyjs

    objectives = list(objectives) or [(metric, "maximize")]
    direction = objectives[0][1]
    figs = _Figures()
    ok = trials[trials["status"] == "ok"] if "status" in trials else trials
    scored = ok[ok[metric].notna()] if metric in ok else ok.iloc[0:0]
    warned = "".join(f'<p class="warn">warning: {html.escape(w)}</p>' for w in warnings)
    if windows:
        head = walk_forward_sections(trials, windows, metric, direction, best_equity)
        figs.raw(_summary(trials, title, head[0] + warned))
        for part in head[1:]:
            figs.raw(part)
        _table(figs, trials, params, [n for n, _ in objectives], {})
        return _write(path, title, figs, get_plotlyjs())
    row = _best_row(scored, metric, direction) if len(scored) else None
    if best is not None:
        best_html = (
            '<p id="best"><b>Best trial</b> '
            + html.escape(", ".join(f"{k}={v}" for k, v in best.get("params", {}).items()))
            + f" — {html.escape(metric)} = {float(best.get('value', float('nan'))):.4g}</p>"
        )
    else:
        best_html = '<p id="best">No successful trial.</p>'
    figs.raw(_summary(trials, title, best_html + warned))
    if best_equity is not None and len(best_equity):
        import plotly.graph_objects as go

        fig = go.Figure(go.Scatter(x=best_equity.index, y=best_equity.to_numpy(), name="equity"))
        fig.update_layout(height=360, margin={"t": 30, "b": 30})
        figs.add("best-equity", "Best trial: equity", fig)
    extra: dict[str, Sequence[Any]] = {}
    if len(scored):
        values = scored[metric].to_numpy(dtype=float)
        _history(figs, scored, metric, direction)
        if params:
            _importances(figs, param_importances(scored, params, values), metric)
            figs.add(
                "parallel",
                "Parallel coordinates",
                *parallel_figure(scored, params, metric, direction),
            )
            codes = {p: level_codes(scored[p])[0].tolist() for p in params}
            labels = {p: level_codes(scored[p])[1] for p in params}
            figs.raw(
                heatmap_section(
                    list(params),
                    codes,
                    labels,
                    values.tolist(),
                    metric=metric,
                    direction=direction,
                )
            )
        _distribution(figs, values, metric)
        means, counts = neighbourhood_means(scored, params, values)
        best_id = None if row is None else int(row["trial_id"])
        _robustness(figs, scored, values, means, counts, metric, direction, best_id)
        lookup = dict(zip(scored["trial_id"].tolist(), means.tolist(), strict=True))
        extra["neighbourhood"] = [lookup.get(i) for i in trials["trial_id"].tolist()]
        if len(objectives) > 1 and all(n in scored for n, _ in objectives):
            _pareto(figs, scored, objectives)
    _table(figs, trials, params, [n for n, _ in objectives], extra)
    return _write(path, title, figs, get_plotlyjs())


def _write(path: Path, title: str, figs: _Figures, plotly_js: str) -> Path:
    page = (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style><script>{plotly_js}</script></head><body>"
        + "\n".join(figs.parts)
        + page_script()
        + "</body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
