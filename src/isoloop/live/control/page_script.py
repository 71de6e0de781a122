"""The live operator page's script (served inline, allowed by its hash in the CSP).

It reads the API token from the URL fragment (`#token=…`, which a browser never
sends to a server), keeps it in this tab's `sessionStorage`, removes it from the
address bar, and sends it as the bearer header of every request. Everything it
shows is written with `textContent`: names and error texts are data, never markup.
"""

from __future__ import annotations

__all__ = ["PAGE_SCRIPT", "REFRESH_MS"]

REFRESH_MS = 2000

PAGE_SCRIPT = r"""
"use strict";
const REFRESH_MS = __REFRESH__;
const KEY = "isoloop-live-token";
function takeToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY);
}
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function money(v) {
  if (v === null || v === undefined) return "—";
  return Number(v).toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
}
function num(v) {
  if (v === null || v === undefined) return "—";
  return Number(v).toLocaleString("en-US", {maximumFractionDigits: 6});
}
function signed(e, v) {
  e.classList.add(v === null || v === undefined ? "flat" : v > 0 ? "up" : v < 0 ? "down" : "flat");
  return e;
}
function kv(dl, k, v, cls) {
  const d = el("div", "kv" + (cls ? " " + cls : ""));
  d.appendChild(el("span", "k", k));
  const val = el("span", "v", v);
  d.appendChild(val);
  dl.appendChild(d);
  return val;
}
function table(cls, title, cols, rows, empty) {
  const sec = el("section", "panel " + cls);
  sec.appendChild(el("h3", null, title));
  if (!rows.length) {
    sec.appendChild(el("p", "empty", empty));
    return sec;
  }
  const t = el("table");
  const hr = el("tr");
  cols.forEach(c => hr.appendChild(el("th", null, c[0])));
  t.appendChild(el("thead")).appendChild(hr);
  const tb = el("tbody");
  rows.forEach(r => {
    const tr = el("tr");
    cols.forEach(c => tr.appendChild(el("td", c[2] || null, c[1](r))));
    tb.appendChild(tr);
  });
  t.appendChild(tb);
  sec.appendChild(t);
  return sec;
}
function badge(text, kind) { return el("span", "badge " + kind, text); }
function stateKind(s) {
  return {running: "ok", paused: "warn", failed: "bad", stopped: "off"}[s] || "off";
}
function killKind(s) { return s === "ACTIVE" ? "ok" : s === "REDUCING" ? "warn" : "bad"; }
function card(name, s) {
  const a = s.account || {};
  const c = el("article", "strategy");
  c.dataset.name = name;
  const h = el("header");
  h.appendChild(el("h2", null, name));
  h.appendChild(badge(s.state, stateKind(s.state) + " state"));
  h.appendChild(badge("kill switch " + s.kill_switch, killKind(s.kill_switch) + " kill"));
  h.appendChild(badge(s.mode, "off mode"));
  c.appendChild(h);
  const m = el("div", "metrics panel-account");
  kv(m, "equity", money(a.equity), "equity");
  signed(kv(m, "P&L", money(a.pnl), "pnl"), a.pnl);
  kv(m, "cash", money(a.cash), "cash");
  kv(m, "orders", s.orders);
  kv(m, "fills", s.fills);
  kv(m, "bar", s.last_bar);
  kv(m, "ticks", s.ticks);
  kv(m, "last tick", s.last_tick ? s.last_tick.replace("T", " ").slice(0, 19) : "—");
  kv(m, "tick interval", s.tick_interval + " s");
  kv(m, "errors", s.errors, s.errors ? "alert" : "");
  kv(m, "restarts", s.restarts);
  kv(m, "queued bars", s.feed ? s.feed.queued : "—");
  c.appendChild(m);
  const pos = Object.entries(a.positions || {}).map(([k, p]) => Object.assign({key: k}, p));
  const grid = el("div", "grid");
  grid.appendChild(table("panel-positions", "Positions", [
    ["position", p => p.key], ["qty", p => num(p.qty), "n"],
    ["mark", p => num(p.price), "n"], ["value", p => money(p.value), "n"],
  ], pos, "flat: no open position"));
  grid.appendChild(table("panel-orders", "Open orders", [
    ["id", o => o.id], ["side", o => o.side], ["type", o => o.type],
    ["size", o => num(o.size), "n"], ["limit", o => num(o.limit), "n"],
    ["stop", o => num(o.stop), "n"], ["status", o => o.status],
  ], a.open_orders || [], "no working order"));
  grid.appendChild(table("panel-fills", "Recent fills (" + (a.fills || 0) + " in all)", [
    ["#", f => f.seq, "n"], ["order", f => f.order_id], ["bar", f => f.bar, "n"],
    ["qty", f => num(f.qty), "n"], ["price", f => num(f.price), "n"],
    ["fee", f => money(f.fee), "n"],
  ], a.recent_fills || [], "no fill yet"));
  const errs = el("section", "panel panel-errors");
  errs.appendChild(el("h3", null, "Errors"));
  if (s.error) errs.appendChild(el("p", "alert", "fatal: " + s.error));
  if (s.last_error) {
    const le = s.last_error;
    errs.appendChild(el("p", le.fatal ? "alert" : "warn",
      "last: " + (le.error || "?") + " (" + String(le.time || "").slice(11, 19) + ")"));
  }
  if (!s.error && !s.last_error) errs.appendChild(el("p", "empty", "no error"));
  grid.appendChild(errs);
  c.appendChild(grid);
  return c;
}
function render(st) {
  const top = document.getElementById("summary");
  top.replaceChildren();
  kv(top, "environment", st.environment);
  kv(top, "mode", st.mode);
  kv(top, "kill switch", "", "kill-global").replaceChildren(
    badge(st.kill_switch, killKind(st.kill_switch)));
  kv(top, "strategies", Object.keys(st.strategies).length);
  const done = st.feed.done ? " (done)" : "";
  kv(top, "feed", st.feed.published + " / " + st.feed.bars + " bars" + done);
  kv(top, "errors", st.errors, st.errors ? "alert" : "");
  kv(top, "restarts", st.restarts);
  let equity = 0, pnl = 0, known = true;
  Object.values(st.strategies).forEach(s => {
    const a = s.account || {};
    if (a.equity === null || a.equity === undefined) known = false;
    equity += a.equity || 0; pnl += a.pnl || 0;
  });
  kv(top, "total equity", known ? money(equity) : "—");
  signed(kv(top, "total P&L", known ? money(pnl) : "—"), known ? pnl : null);
  const box = document.getElementById("strategies");
  box.replaceChildren();
  Object.keys(st.strategies).sort().forEach(n => box.appendChild(card(n, st.strategies[n])));
  if (!Object.keys(st.strategies).length) box.appendChild(el("p", "empty", "no strategy"));
}
function status(text, kind) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = "badge " + kind;
}
let timer = null;
async function refresh() {
  const token = sessionStorage.getItem(KEY);
  if (!token) { askToken(); return; }
  try {
    const r = await fetch("/state", {
      headers: {"Authorization": "Bearer " + token}, cache: "no-store"});
    if (r.status === 401) {
      sessionStorage.removeItem(KEY);
      status("token refused", "bad");
      askToken();
      return;
    }
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    status("live", "ok");
    const now = new Date().toLocaleTimeString("en-GB");
    document.getElementById("updated").textContent = "updated " + now;
  } catch (e) {
    status("manager not reachable", "bad");
  }
  timer = setTimeout(refresh, REFRESH_MS);
}
function askToken() {
  document.getElementById("login").hidden = false;
}
document.getElementById("login").addEventListener("submit", ev => {
  ev.preventDefault();
  const input = document.getElementById("token");
  if (input.value) sessionStorage.setItem(KEY, input.value.trim());
  input.value = "";
  document.getElementById("login").hidden = true;
  if (timer) clearTimeout(timer);
  refresh();
});
takeToken();
refresh();
""".replace("__REFRESH__", str(REFRESH_MS))
