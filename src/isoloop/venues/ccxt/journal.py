"""The client-order-id journal: what was sent to the exchange, written BEFORE it is sent.

It lives in the container's own SQLite store (the connection the store slot holds):
`sending` rows are committed on their own the moment they are written (the bar's
transaction has not opened yet), so a process killed while the request is on the
wire leaves a row that says "this client id may have landed". The bar's transaction
then records, with the books, which of the order's exchange trades the books hold
(`committed`, `done` once the order is terminal). A restart asks the exchange about
every row that is not `done`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Baseline", "Journal", "JournalRow"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS exchange_accounts (
    account TEXT NOT NULL, venue TEXT NOT NULL, nonce TEXT NOT NULL, cash0 REAL NOT NULL,
    positions0 TEXT NOT NULL, PRIMARY KEY (account, venue));
CREATE TABLE IF NOT EXISTS exchange_orders (
    account TEXT NOT NULL, venue TEXT NOT NULL, order_id TEXT NOT NULL,
    client_id TEXT NOT NULL, state TEXT NOT NULL, exchange_id TEXT,
    trades TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (account, venue, order_id));
"""


@dataclass(frozen=True, slots=True)
class Baseline:
    """The account as the exchange showed it when this strategy first started on it:
    the strategy's books start from these (cash, and base assets it already held)."""

    nonce: str
    cash0: float
    positions0: dict[str, float]


@dataclass(slots=True)
class JournalRow:
    order_id: str
    client_id: str
    state: str  # sending | committed | done
    exchange_id: str | None
    trades: list[str] = field(default_factory=list)  # exchange trade ids the books hold
    record: dict[str, Any] = field(default_factory=dict)


class Journal:
    """One venue's rows of one account (strategy) in the store's database."""

    def __init__(self, db: sqlite3.Connection, account: str, venue: str) -> None:
        self._db = db
        self.account = account
        self.venue = venue
        db.executescript(_SCHEMA)

    def baseline(self) -> Baseline | None:
        row = self._db.execute(
            "SELECT nonce, cash0, positions0 FROM exchange_accounts WHERE account=? AND venue=?",
            (self.account, self.venue),
        ).fetchone()
        if row is None:
            return None
        return Baseline(str(row[0]), float(row[1]), json.loads(row[2]))

    def set_baseline(self, base: Baseline) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO exchange_accounts(account, venue, nonce, cash0, positions0) "
            "VALUES (?,?,?,?,?)",
            (self.account, self.venue, base.nonce, base.cash0, json.dumps(base.positions0)),
        )

    def sending(self, order_id: str, client_id: str, record: dict[str, Any]) -> None:
        """Note `client_id` before its request leaves (a resend keeps the first row)."""
        self._db.execute(
            "INSERT OR IGNORE INTO exchange_orders(account, venue, order_id, client_id, state, "
            "exchange_id, trades, record) VALUES (?,?,?,?,'sending',NULL,'[]',?)",
            (self.account, self.venue, order_id, client_id, json.dumps(record, sort_keys=True)),
        )

    def write(self, rows: list[JournalRow]) -> None:
        """The books' view of these orders (inside the bar's transaction)."""
        self._db.executemany(
            "INSERT INTO exchange_orders(account, venue, order_id, client_id, state, exchange_id, "
            "trades, record) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(account, venue, order_id) DO "
            "UPDATE SET state=excluded.state, exchange_id=excluded.exchange_id, "
            "trades=excluded.trades, record=excluded.record",
            [
                (
                    self.account,
                    self.venue,
                    r.order_id,
                    r.client_id,
                    r.state,
                    r.exchange_id,
                    json.dumps(sorted(r.trades)),
                    json.dumps(r.record, sort_keys=True),
                )
                for r in rows
            ],
        )

    def open_rows(self) -> list[JournalRow]:
        """Every order whose exchange trades the books may not all hold yet."""
        return [
            JournalRow(str(r[0]), str(r[1]), str(r[2]), r[3], json.loads(r[4]), json.loads(r[5]))
            for r in self._db.execute(
                "SELECT order_id, client_id, state, exchange_id, trades, record FROM "
                "exchange_orders WHERE account=? AND venue=? AND state != 'done' ORDER BY order_id",
                (self.account, self.venue),
            )
        ]

    def count(self) -> int:
        (n,) = self._db.execute(
            "SELECT count(*) FROM exchange_orders WHERE account=? AND venue=?",
            (self.account, self.venue),
        ).fetchone()
        return int(n)
