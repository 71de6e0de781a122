"""The interactive parts of a sweep report, run in the browser from JSON embedded in
the page: the trials table (filters, sorting, paging) and the heatmap whose two
parameters are chosen in the page.

Paging keeps a 10k-trial table fast to open: only `PAGE_ROWS` rows are in the DOM
at a time, and filtering or sorting rebuilds just that page.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from isoloop.results.sweep_report_analysis import MAX_LEVELS

__all__ = [
    "PAGE_ROWS",
    "STYLE",
    "heatmap_section",
    "json_column",
    "page_script",
    "table_section",
]

#: Rows of the trials table shown per page.
PAGE_ROWS = 50

STYLE = """
body{font-family:sans-serif;margin:24px;color:#222}
h2{margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3;cursor:pointer;white-space:nowrap}
thead input{width:6em;font-size:12px}
.note{color:#555;font-size:13px;max-width:70em}
.warn{color:#a05a00}
.pager{margin:6px 0;font-size:13px}
.pager button{margin:0 4px}
"""


def _json(payload: object) -> str:
    # `</` would end the <script> element early: escape it inside the JSON text.
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def json_column(column: pd.Series) -> list[Any]:
    """A column as JSON-safe cells: numbers stay numbers (NaN and infinities become
    null), anything else its text (missing: empty)."""
    if pd.api.types.is_bool_dtype(column):
        return [bool(v) for v in column]
    if pd.api.types.is_numeric_dtype(column):
        numbers = column.to_numpy(dtype=float)
        return pd.Series(numbers, dtype=object).where(np.isfinite(numbers), None).tolist()
    return [
        ("" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)) for v in column
    ]


def table_section(frame: pd.DataFrame, names: Sequence[str]) -> str:
    """The trials table's shell and its data; `page_script` fills it in the browser."""
    columns = [json_column(frame[c]) for c in frame.columns]
    data = {"columns": list(names), "rows": [list(row) for row in zip(*columns, strict=True)]}
    return (
        '<section id="trials"><h2>Trials</h2>'
        '<p class="note">Click a header to sort. Filters: a number or text matches by '
        "equality or substring; <code>&gt;1.5</code>, <code>&lt;=0</code> compare; "
        "<code>1..2</code> is a closed range.</p>"
        f'<div class="pager" id="trials-pager"></div>'
        '<div style="overflow-x:auto">'
        '<table id="trials-table"><thead></thead><tbody></tbody></table></div>'
        f'<script type="application/json" id="trials-data">{_json(data)}</script></section>'
    )


def heatmap_section(
    params: Sequence[str],
    codes: Mapping[str, Sequence[int]],
    labels: Mapping[str, Sequence[str]],
    values: Sequence[float],
    *,
    metric: str,
    direction: str,
) -> str:
    """Two parameter pickers and a heatmap of the best objective per pair of levels."""
    rule = "max" if direction == "maximize" else "min"
    data = {
        "params": list(params),
        "codes": {p: [int(c) for c in codes[p]] for p in params},
        "labels": {p: [str(x) for x in labels[p]] for p in params},
        "values": json_column(pd.Series(values, dtype=float)),
        "metric": metric,
        "rule": rule,
    }
    options = "".join(
        f'<option value="{i}">{html.escape(p.removeprefix("param."))}</option>'
        for i, p in enumerate(params)
    )
    return (
        '<section id="heatmap"><h2>Heatmap of any two parameters</h2>'
        f'<label>x <select id="heatmap-x">{options}</select></label> '
        f'<label>y <select id="heatmap-y">{options}</select></label>'
        f'<p class="note" id="heatmap-rule">Each cell is the <b>{rule}</b> of '
        f"{html.escape(metric)} ({html.escape(direction)}) over the ok trials with that "
        "pair of values, whatever the other parameters are (hover: how many trials). "
        f"Numeric parameters with more than {MAX_LEVELS} values are cut into {MAX_LEVELS} "
        "equal-count bins.</p>"
        '<div id="heatmap-plot" style="height:480px"></div>'
        f'<script type="application/json" id="heatmap-data">{_json(data)}</script></section>'
    )


_SCRIPT = """
(function () {
  function byId(id) { return document.getElementById(id); }
  function matches(cell, rule) {
    rule = rule.trim();
    if (rule === '') return true;
    if (cell === null || cell === undefined) return false;
    var m = /^(>=|<=|>|<|=)\\s*(-?[0-9.eE+-]+)$/.exec(rule);
    if (m && typeof cell === 'number') {
      var x = parseFloat(m[2]);
      if (m[1] === '>') return cell > x;
      if (m[1] === '<') return cell < x;
      if (m[1] === '>=') return cell >= x;
      if (m[1] === '<=') return cell <= x;
      return cell === x;
    }
    var r = /^(-?[0-9.eE+-]+)\\s*\\.\\.\\s*(-?[0-9.eE+-]+)$/.exec(rule);
    if (r && typeof cell === 'number') {
      return cell >= parseFloat(r[1]) && cell <= parseFloat(r[2]);
    }
    if (typeof cell === 'number' && rule !== '' && !isNaN(Number(rule))) {
      return cell === Number(rule);
    }
    return String(cell).toLowerCase().indexOf(rule.toLowerCase()) >= 0;
  }
  function show(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number' && !Number.isInteger(v)) return String(Number(v.toPrecision(4)));
    return String(v);
  }
  function table() {
    var holder = byId('trials-data');
    if (!holder) return;
    var data = JSON.parse(holder.textContent);
    var cols = data.columns, all = data.rows, page = 0, sortCol = -1, sortDir = 1;
    var filters = cols.map(function () { return ''; });
    var head = byId('trials-table').tHead, body = byId('trials-table').tBodies[0];
    var pager = byId('trials-pager');
    var names = document.createElement('tr'), inputs = document.createElement('tr');
    cols.forEach(function (c, i) {
      var th = document.createElement('th');
      th.textContent = c;
      th.addEventListener('click', function () {
        sortDir = sortCol === i ? -sortDir : 1; sortCol = i; page = 0; draw();
      });
      names.appendChild(th);
      var td = document.createElement('th'), input = document.createElement('input');
      input.type = 'text'; input.setAttribute('data-col', c); input.placeholder = 'filter';
      input.addEventListener('input', function () { filters[i] = input.value; page = 0; draw(); });
      td.appendChild(input); inputs.appendChild(td);
    });
    head.appendChild(names); head.appendChild(inputs);
    function draw() {
      var rows = all.filter(function (row) {
        return filters.every(function (f, i) { return matches(row[i], f); });
      });
      if (sortCol >= 0) {
        rows = rows.slice().sort(function (a, b) {
          var x = a[sortCol], y = b[sortCol];
          if (x === y) return 0;
          if (x === null) return 1;
          if (y === null) return -1;
          return (x < y ? -1 : 1) * sortDir;
        });
      }
      var pages = Math.max(1, Math.ceil(rows.length / PAGE));
      page = Math.min(page, pages - 1);
      var html = [];
      rows.slice(page * PAGE, (page + 1) * PAGE).forEach(function (row) {
        html.push('<tr>' + row.map(function (v) {
          var td = document.createElement('td'); td.textContent = show(v); return td.outerHTML;
        }).join('') + '</tr>');
      });
      body.innerHTML = html.join('');
      pager.innerHTML = '';
      var info = document.createElement('span');
      info.id = 'trials-count';
      info.textContent = rows.length + ' of ' + all.length + ' trials, page ' + (page + 1) +
        ' of ' + pages;
      var prev = document.createElement('button'), next = document.createElement('button');
      prev.textContent = 'previous'; next.textContent = 'next';
      prev.disabled = page === 0; next.disabled = page >= pages - 1;
      prev.addEventListener('click', function () { page -= 1; draw(); });
      next.addEventListener('click', function () { page += 1; draw(); });
      pager.appendChild(prev); pager.appendChild(info); pager.appendChild(next);
    }
    draw();
  }
  function heatmap() {
    var holder = byId('heatmap-data');
    if (!holder || typeof Plotly === 'undefined') return;
    var d = JSON.parse(holder.textContent);
    var sx = byId('heatmap-x'), sy = byId('heatmap-y');
    sx.value = '0'; sy.value = d.params.length > 1 ? '1' : '0';
    function draw() {
      var kx = d.params[+sx.value], ky = d.params[+sy.value];
      var lx = d.labels[kx], ly = d.labels[ky], cx = d.codes[kx], cy = d.codes[ky];
      var px = kx.replace(/^param[.]/, ''), py = ky.replace(/^param[.]/, '');
      var z = ly.map(function () { return lx.map(function () { return null; }); });
      var n = ly.map(function () { return lx.map(function () { return 0; }); });
      d.values.forEach(function (v, i) {
        if (v === null || cx[i] < 0 || cy[i] < 0) return;
        var cur = z[cy[i]][cx[i]];
        if (cur === null || (d.rule === 'max' ? v > cur : v < cur)) z[cy[i]][cx[i]] = v;
        n[cy[i]][cx[i]] += 1;
      });
      var title = d.rule + ' of ' + d.metric + ' by ' + px + ' and ' + py +
        ' (other parameters: ' + d.rule + ')';
      Plotly.react('heatmap-plot', [{
        type: 'heatmap', z: z, x: lx, y: ly, customdata: n, colorscale: 'Viridis',
        colorbar: {title: {text: d.metric}},
        hovertemplate: px + '=%{x}<br>' + py + '=%{y}<br>' + d.metric +
          '=%{z:.4g}<br>trials=%{customdata}<extra></extra>'
      }], {title: {text: title}, xaxis: {title: {text: px}, type: 'category'},
           yaxis: {title: {text: py}, type: 'category'}, height: 480,
           margin: {t: 50}});
      byId('heatmap-plot').setAttribute('data-pair', px + '|' + py);
    }
    sx.addEventListener('change', draw); sy.addEventListener('change', draw);
    draw();
  }
  table();
  heatmap();
})();
"""


def page_script() -> str:
    """The page's script (after every section it reads)."""
    return "<script>" + _SCRIPT.replace("PAGE", str(PAGE_ROWS)) + "</script>"
