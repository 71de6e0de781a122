"""The walk-forward parts of a sweep report: the windows, their train and test
results, and the stitched out-of-sample equity curve.

A walk-forward run has no single best trial (each window has its own), so the
summary counts trials over all windows and points at the per-window bests
instead of saying none succeeded; every count shown is the trials table's.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = ["walk_forward_sections"]

_TEST_KEYS = ("return_pct", "sharpe_ratio", "max_drawdown_pct", "trades")


def _num(value: Any) -> str:
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return ""


def _counts(trials: pd.DataFrame, window: int) -> tuple[int, int]:
    if "window" not in trials:
        return 0, 0
    rows = trials[trials["window"] == window]
    ok = int((rows["status"] == "ok").sum()) if "status" in rows else len(rows)
    return ok, len(rows) - ok


def _to_html(fig: Any, div_id: str) -> str:
    import plotly.io as pio

    return str(pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id))


def walk_forward_sections(
    trials: pd.DataFrame,
    windows: Sequence[Mapping[str, Any]],
    metric: str,
    direction: str,
    oos_equity: pd.Series | None,
) -> list[str]:
    """[summary lines, windows table, out-of-sample curve, train against test] as HTML."""
    import plotly.graph_objects as go

    ok_total = sum(_counts(trials, int(w["window"]))[0] for w in windows)
    summary = (
        f'<p id="wf-summary">Walk-forward over {len(windows)} windows: each window\'s train '
        f"sweep picks its best trial by {html.escape(metric)} ({html.escape(direction)}), "
        f"which then runs once on the window's test bars. {ok_total} ok train trials; "
        "the best parameters of every window are in the table below.</p>"
    )
    head = (
        "<tr><th>window</th><th>train</th><th>test</th><th>ok trials</th><th>failed</th>"
        f"<th>best parameters</th><th>train {html.escape(metric)}</th>"
        f"<th>test {html.escape(metric)}</th>"
        + "".join(f"<th>test {k}</th>" for k in _TEST_KEYS if k != metric)
        + "</tr>"
    )
    rows = []
    for w in windows:
        ok, failed = _counts(trials, int(w["window"]))
        stats = w.get("test_stats") or {}
        params = ", ".join(f"{k}={v}" for k, v in dict(w.get("best_params") or {}).items())
        rows.append(
            f"<tr><td>{int(w['window'])}</td>"
            f"<td>{html.escape(' → '.join(map(str, w['train'])))}</td>"
            f"<td>{html.escape(' → '.join(map(str, w['test'])))}</td>"
            f"<td>{ok}</td><td>{failed}</td><td>{html.escape(params)}</td>"
            f"<td>{_num(w.get('train_value'))}</td><td>{_num(stats.get(metric))}</td>"
            + "".join(f"<td>{_num(stats.get(k))}</td>" for k in _TEST_KEYS if k != metric)
            + "</tr>"
        )
    table = (
        '<section id="windows"><h2>Windows</h2><p class="note">Train and test spans are the '
        "first and last bar of each; the test run uses the train sweep's best parameters."
        f'</p><table id="windows-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody>'
        "</table></section>"
    )
    parts = [summary, table]
    if oos_equity is not None and len(oos_equity):
        fig = go.Figure(
            go.Scatter(x=oos_equity.index, y=oos_equity.to_numpy(), name="out-of-sample equity")
        )
        for w in windows[1:]:
            fig.add_vline(x=str(w["test"][0]), line={"dash": "dot", "color": "#999"})
        fig.update_layout(height=380, margin={"t": 30}, yaxis_title="equity")
        parts.append(
            '<section id="oos-equity"><h2>Stitched out-of-sample equity</h2><p class="note">'
            "The test windows chained end to end: each starts at the equity the previous one "
            "ended with (dotted lines: window starts).</p>"
            + _to_html(fig, "oos-equity-plot")
            + "</section>"
        )
    ids = [str(int(w["window"])) for w in windows]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=ids, y=[w.get("train_value") for w in windows], name="train (best)"))
    fig.add_trace(
        go.Bar(x=ids, y=[(w.get("test_stats") or {}).get(metric) for w in windows], name="test")
    )
    fig.update_layout(
        barmode="group", xaxis_title="window", yaxis_title=metric, height=340, margin={"t": 30}
    )
    parts.append(
        '<section id="train-test"><h2>Train against test</h2><p class="note">'
        f"{html.escape(metric)} of each window's best train trial and of its test run: a test "
        "far below its train value is overfitting.</p>"
        + _to_html(fig, "train-test-plot")
        + "</section>"
    )
    return parts
