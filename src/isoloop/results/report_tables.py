"""The report's HTML tables: stats, parameters, data, drawdowns, trades, error and events.

Everything is escaped; every table is plain HTML written in a fixed order, so the
report stays a pure function of its inputs. The trades table sorts on a click
of its header (a few lines of inline script, numbers compared as numbers).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from isoloop.results.metrics import STATS_KEYS
from isoloop.results.report_panels import drawdowns

__all__ = [
    "SORT_SCRIPT",
    "STYLE",
    "data_table",
    "drawdowns_table",
    "error_box",
    "events_table",
    "params_table",
    "stats_table",
    "trades_table_html",
]

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:1.4em;margin:0 0 12px}
h2{font-size:1.1em;margin:20px 0 8px}
.row{display:flex;flex-wrap:wrap;gap:32px;align-items:flex-start}
table{border-collapse:collapse;margin:0 0 16px;font-size:0.9em}
td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}
td.v,table.trades td{text-align:right;font-variant-numeric:tabular-nums}
table.trades th{cursor:pointer;user-select:none;background:#f6f6f6;position:sticky;top:0}
table.trades th.asc::after{content:" \\25B2"} table.trades th.desc::after{content:" \\25BC"}
.scroll{max-height:480px;overflow:auto;border:1px solid #eee}
tr.win td.pnl{color:#1a9850} tr.loss td.pnl{color:#d73027}
code{font-size:0.85em;word-break:break-all}
.error{border:2px solid #d73027;background:#fdecea;padding:12px 16px;margin:0 0 16px}
.error pre{white-space:pre-wrap;font-size:0.8em;max-height:360px;overflow:auto;background:#fff}
.note{color:#666;font-size:0.85em}
table.events td:first-child{white-space:nowrap}
"""

SORT_SCRIPT = """
document.querySelectorAll("table.trades").forEach(function(table){
  table.querySelectorAll("th").forEach(function(th, col){
    th.addEventListener("click", function(){
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var desc = th.classList.contains("asc");
      table.querySelectorAll("th").forEach(function(h){h.classList.remove("asc","desc");});
      th.classList.add(desc ? "desc" : "asc");
      rows.sort(function(a, b){
        var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : (x < y ? -1 : x > y ? 1 : 0);
        return desc ? -c : c;
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
});
// A failed run's events end with its error: show that end first.
document.querySelectorAll(".scroll.events").forEach(function(b){b.scrollTop = b.scrollHeight;});
"""

# The trades table's columns, in this order, when the trades have them.
_TRADE_COLUMNS = (
    "symbol",
    "size",
    "entry_time",
    "exit_time",
    "duration",
    "entry_price",
    "exit_price",
    "pnl",
    "return_pct",
    "commission",
    "sl",
    "tp",
    "tag",
)


def _e(value: object) -> str:
    return html.escape(str(value))


def _blank(value: object) -> object:
    """Nothing shown for a value the run did not record (a failed run's bar count)."""
    return "" if value is None else value


def _when(stamp: pd.Timestamp) -> str:
    """A date alone for a midnight stamp (daily bars), else the full ISO time."""
    return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()


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


def stats_table(stats: Mapping[str, float]) -> str:
    ordered = [k for k in STATS_KEYS if k in stats] + sorted(
        k for k in stats if k not in STATS_KEYS
    )
    half = (len(ordered) + 1) // 2
    tables = "".join(
        '<table class="stats">'
        + "".join(
            f'<tr><td>{_e(k)}</td><td class="v">{_e(_format(k, stats[k]))}</td></tr>' for k in part
        )
        + "</table>"
        for part in (ordered[:half], ordered[half:])
        if part
    )
    # Two columns side by side: the charts start higher up the page.
    return f'<div class="row" id="stats">{tables}</div>'


def _kv(table_id: str, title: str, rows: Sequence[tuple[str, object]]) -> str:
    body = "".join(f"<tr><td>{_e(k)}</td><td><code>{_e(v)}</code></td></tr>" for k, v in rows)
    return f'<div><h2>{_e(title)}</h2><table class="kv" id="{table_id}">{body}</table></div>'


def params_table(strategy: str | None, params: Mapping[str, Any]) -> str:
    """The strategy's class and each parameter as the run used it."""
    rows: list[tuple[str, object]] = [("strategy", strategy)] if strategy else []
    rows += [(k, json.dumps(params[k], sort_keys=True, default=str)) for k in sorted(params)]
    return _kv("params", "Parameters", rows)


def data_table(data: Mapping[str, Mapping[str, Any]]) -> str:
    """Per symbol: bars, source and the data fingerprint the run's digest covers."""
    rows = "".join(
        f'<tr><td>{_e(sym)}</td><td class="v">{_e(_blank(data[sym].get("bars")))}</td>'
        f"<td>{_e(_blank(data[sym].get('source')))}</td>"
        f"<td><code>{_e(_blank(data[sym].get('fingerprint')))}</code></td></tr>"
        for sym in sorted(data)
    )
    head = "<tr><th>symbol</th><th>bars</th><th>source</th><th>fingerprint (SHA-256)</th></tr>"
    return f'<div><h2>Data</h2><table class="kv" id="data">{head}{rows}</table></div>'


def drawdowns_table(index: pd.DatetimeIndex, equity: np.ndarray, top: int = 5) -> str:
    """The deepest drawdowns with their start, trough, recovery and duration."""
    spells = sorted(drawdowns(equity), key=lambda d: (d.depth_pct, d.start))[:top]
    if not spells:
        return ""
    rows = []
    for d in spells:
        days = (index[d.end] - index[d.start]) / pd.Timedelta(days=1)
        end = _when(index[d.end]) if d.recovered else f"not recovered ({_when(index[d.end])})"
        rows.append(
            f'<tr><td class="v">{d.depth_pct:.2f}%</td><td>{_e(_when(index[d.start]))}</td>'
            f"<td>{_e(_when(index[d.trough]))}</td><td>{_e(end)}</td>"
            f'<td class="v">{days:,.1f}</td></tr>'
        )
    head = "<tr><th>depth</th><th>peak</th><th>trough</th><th>recovered</th><th>days</th></tr>"
    return (
        f"<div><h2>Deepest drawdowns</h2>"
        f'<table class="kv" id="drawdowns">{head}{"".join(rows)}</table></div>'
    )


def _cell(column: str, value: object) -> tuple[str, str]:
    """(sort key, shown text) of one trades-table cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return "", ""
    if isinstance(value, pd.Timestamp):
        return value.isoformat(), _when(value)
    if isinstance(value, pd.Timedelta):
        return repr(value.total_seconds()), str(value)
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if column == "return_pct":
            return repr(number), f"{number * 100:,.2f}%"
        if column == "size":
            return repr(number), f"{number:g}"
        return repr(number), f"{number:,.2f}" if abs(number) >= 1 else f"{number:.4g}"
    return str(value), str(value)


def trades_table_html(trades: pd.DataFrame) -> str:
    """Every trade, one row each, sortable by any column (click its header)."""
    columns = [c for c in _TRADE_COLUMNS if c in trades.columns]
    if not columns:
        return '<h2>Trades (0)</h2><p class="note">No trades.</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    pnl = (
        pd.to_numeric(trades["pnl"], errors="coerce").to_numpy(dtype="float64")
        if "pnl" in trades.columns
        else np.full(len(trades), np.nan)
    )
    values = {c: trades[c].tolist() for c in columns}
    rows = []
    for i in range(len(trades)):
        cells = []
        for c in columns:
            key, text = _cell(c, values[c][i])
            cls = ' class="pnl"' if c in ("pnl", "return_pct") else ""
            cells.append(f'<td{cls} data-v="{_e(key)}">{_e(text)}</td>')
        kind = "win" if pnl[i] > 0 else "loss"
        rows.append(f'<tr class="{kind}">{"".join(cells)}</tr>')
    return (
        f"<h2>Trades ({len(trades):,})</h2>"
        '<p class="note">Click a column header to sort.</p>'
        f'<div class="scroll"><table class="trades" id="trades"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def error_box(error: Mapping[str, Any]) -> str:
    """A failed run's error: code, severity, where it happened, the message and the trace."""
    fields = [(k, error.get(k)) for k in ("code", "severity", "component", "operation")]
    facts = " · ".join(f"{_e(k)}: <b>{_e(v)}</b>" for k, v in fields if v not in (None, ""))
    trace = error.get("traceback")
    return (
        '<div class="error" id="error"><h2>The run failed</h2>'
        f"<p>{facts}</p><p>{_e(error.get('message', 'no message recorded'))}</p>"
        + (f"<pre>{_e(trace)}</pre>" if trace else "")
        + "</div>"
    )


def _details(event: Mapping[str, Any], skip: set[str]) -> str:
    """The event's other keys as JSON, cut at 400 characters (the error box has the trace)."""
    text = json.dumps({k: event[k] for k in sorted(event) if k not in skip}, default=str)
    return text if len(text) <= 400 else text[:399] + "…"


def events_table(events: Sequence[Mapping[str, Any]], total: int) -> str:
    """The last events of the run's log (time, level, event, the rest as JSON)."""
    if not events:
        return '<h2>Events</h2><p class="note">No events were recorded.</p>'
    skip = {"timestamp", "level", "event", "run_id", "container_id", "blueprint", "config"}
    rows = "".join(
        f"<tr><td>{_e(e.get('timestamp', ''))}</td><td>{_e(e.get('level', ''))}</td>"
        f"<td>{_e(e.get('event', ''))}</td><td><code>{_e(_details(e, skip))}</code></td></tr>"
        for e in events
    )
    shown = f"the last {len(events):,} of {total:,}" if total > len(events) else f"all {total:,}"
    return (
        f'<h2>Events ({shown})</h2><div class="scroll events"><table class="events" id="events">'
        f"<tr><th>time</th><th>level</th><th>event</th><th>details</th></tr>{rows}</table></div>"
    )
