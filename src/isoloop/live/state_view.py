"""What an operator reads about a strategy beyond its container's counters: the execution
mode, and the sub-account (cash, equity, P&L, positions, open orders, recent fills) as
last committed to the state store.

The account is read from the store, not from the container's memory: every processed
bar is one transaction there, so the numbers are always those of a whole bar, and a
stopped or failed strategy still shows what it holds. Equity marks each position at
the close of the last bar the container processed (`last_bar`); before the first bar it
is the cash.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from isoloop.data import MarketData
from isoloop.errors import IsoloopError
from isoloop.live.config import LiveConfig
from isoloop.model.modes import ExecutionMode
from isoloop.model.positions import PositionKey
from isoloop.scope.blueprint import load_blueprint

__all__ = ["PAPER_VENUE", "RECENT_FILLS", "account_view", "execution_mode"]

PAPER_VENUE = "isoloop.live.slots.paper:PaperVenue"
RECENT_FILLS = 10  # fills shown per strategy (the store keeps them all)
_OPEN = ("ACCEPTED", "PARTIAL", "PENDING_CANCEL")
_ORDER_FIELDS = ("id", "symbol", "side", "type", "size", "limit", "stop", "status", "filled")


def execution_mode(live: LiveConfig, name: str) -> ExecutionMode:
    """PAPER_TRADING when the strategy's blueprint puts the paper venue in its `venue`
    slot, LIVE_TRADING for any other (a real broker adapter)."""
    try:
        bp = load_blueprint(live.blueprint_for(name))
    except (IsoloopError, OSError, ValueError):
        # The container itself reports a blueprint it cannot load; go by the environment.
        paper = live.environment == "paper"
    else:
        venue = [s.class_ref for s in bp.slots if (s.role or s.name) == "venue"]
        paper = venue == [PAPER_VENUE]
    return ExecutionMode.PAPER_TRADING if paper else ExecutionMode.LIVE_TRADING


def _mark(market: MarketData | None, key: str, bar: int) -> float | None:
    if market is None or bar < 0:
        return None
    try:
        bars = market.get(PositionKey.parse(key).symbol)
    except ValueError:
        return None
    if bars is None or bar >= len(bars.close):
        return None
    return float(bars.close[bar])


def account_view(
    store: Path,
    account: str,
    *,
    market: MarketData | None,
    last_bar: int,
    initial_cash: float,
    recent: int = RECENT_FILLS,
) -> dict[str, Any]:
    """`{"cash", "equity", "pnl", "positions", "open_orders", "recent_fills", "fills"}`;
    cash, equity and pnl are None while the store holds no account for `account`."""
    empty: dict[str, Any] = {
        "cash": None,
        "equity": None,
        "pnl": None,
        "positions": {},
        "open_orders": [],
        "recent_fills": [],
        "fills": 0,
    }
    if not store.is_file():
        return empty
    # Read-only: the page and `status` never take a write lock on the containers' store.
    db = sqlite3.connect(store.resolve().as_uri() + "?mode=ro", uri=True, timeout=5.0)
    try:
        row = db.execute("SELECT cash FROM venue_accounts WHERE account=?", (account,)).fetchone()
        if row is None:
            return empty
        cash = float(row[0])
        held = db.execute(
            "SELECT key, qty FROM venue_positions WHERE account=? AND qty != 0 ORDER BY key",
            (account,),
        ).fetchall()
        records = db.execute(
            "SELECT record FROM venue_orders WHERE account=? AND status IN (?,?,?) "
            "ORDER BY order_id",
            (account, *_OPEN),
        ).fetchall()
        n_fills = db.execute(
            "SELECT COUNT(*) FROM venue_fills WHERE account=?", (account,)
        ).fetchone()[0]
        fills = db.execute(
            "SELECT seq, order_id, symbol, qty, price, fee, bar FROM venue_fills "
            "WHERE account=? ORDER BY seq DESC LIMIT ?",
            (account, recent),
        ).fetchall()
    except sqlite3.OperationalError:  # tables not created yet (store being prepared)
        return empty
    finally:
        db.close()
    positions: dict[str, dict[str, float | None]] = {}
    equity: float | None = cash
    for key, qty in held:
        price = _mark(market, str(key), last_bar)
        value = None if price is None else float(qty) * price
        positions[str(key)] = {"qty": float(qty), "price": price, "value": value}
        equity = None if equity is None or value is None else equity + value
    if not held and last_bar < 0:
        equity = cash
    open_orders = []
    for (raw,) in records:
        rec = json.loads(raw)
        open_orders.append({k: rec.get(k) for k in _ORDER_FIELDS})
    cols = ("seq", "order_id", "symbol", "qty", "price", "fee", "bar")
    return {
        "cash": cash,
        "equity": equity,
        "pnl": None if equity is None else equity - initial_cash,
        "positions": positions,
        "open_orders": open_orders,
        "recent_fills": [dict(zip(cols, f, strict=True)) for f in fills],
        "fills": int(n_fills),
    }
