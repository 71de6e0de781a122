"""One container's persisted state in SQLite (WAL): the paper venue's sub-account
(cash, positions, open orders, fills) and the container's own checkpoint (its
books, the last bar it processed, its order-id sequence).

Every processed bar is one transaction covering both, so a process killed at
any instant restarts from the last whole bar: no fill is lost and no order is
recorded twice (orders are keyed by account and id).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from isoloop.live.config import LiveConfig
from isoloop.model.events import Fill

__all__ = [
    "GLOBAL_SCOPE",
    "AccountStore",
    "Checkpoint",
    "StoredAccount",
    "load_kill_switches",
    "prepare_store",
    "read_account_rows",
    "read_kill_audit",
    "record_kill_switch",
    "store_path",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS venue_accounts (
    account TEXT PRIMARY KEY, venue TEXT NOT NULL, cash REAL NOT NULL);
CREATE TABLE IF NOT EXISTS venue_positions (
    account TEXT NOT NULL, key TEXT NOT NULL, qty REAL NOT NULL, PRIMARY KEY (account, key));
CREATE TABLE IF NOT EXISTS venue_orders (
    account TEXT NOT NULL, order_id TEXT NOT NULL, status TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (account, order_id));
CREATE TABLE IF NOT EXISTS venue_fills (
    account TEXT NOT NULL, seq INTEGER NOT NULL, order_id TEXT NOT NULL, symbol TEXT NOT NULL,
    venue TEXT NOT NULL, qty REAL NOT NULL, price REAL NOT NULL, fee REAL NOT NULL,
    bar INTEGER NOT NULL, PRIMARY KEY (account, seq));
CREATE TABLE IF NOT EXISTS container_checkpoints (
    account TEXT PRIMARY KEY, last_bar INTEGER NOT NULL, last_ns INTEGER,
    order_seq INTEGER NOT NULL, books_cash REAL NOT NULL, books_positions TEXT NOT NULL,
    open_orders TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS container_venue_cash (
    account TEXT NOT NULL, venue TEXT NOT NULL, cash REAL NOT NULL, PRIMARY KEY (account, venue));
CREATE TABLE IF NOT EXISTS container_bars (
    account TEXT NOT NULL, bar INTEGER NOT NULL, time_ns INTEGER NOT NULL, equity REAL,
    cash REAL, position_values TEXT NOT NULL, kill_switch TEXT NOT NULL,
    PRIMARY KEY (account, bar));
CREATE TABLE IF NOT EXISTS container_trades (
    account TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (account, seq));
CREATE TABLE IF NOT EXISTS container_sessions (
    account TEXT NOT NULL, seq INTEGER NOT NULL, started TEXT NOT NULL, mode TEXT NOT NULL,
    from_bar INTEGER NOT NULL, config TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (account, seq));
CREATE TABLE IF NOT EXISTS kill_switch (
    scope TEXT PRIMARY KEY, state TEXT NOT NULL, reason TEXT NOT NULL, by TEXT NOT NULL,
    time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kill_switch_audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, scope TEXT NOT NULL,
    state TEXT NOT NULL, reason TEXT NOT NULL, by TEXT NOT NULL);
"""

ACTIVE = ("ACCEPTED", "PARTIAL", "PENDING_CANCEL")
# The `kill_switch` row of the global switch (strategy names start with a letter).
GLOBAL_SCOPE = "*"


def prepare_store(path: Path) -> None:
    """Create the file, switch it to WAL and create the tables, once, before containers start.

    Switching the journal mode needs a moment of exclusive access, so it is not done
    by containers that start while their peers are writing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)
    finally:
        db.close()


def store_path(live: LiveConfig) -> Path:
    return Path(live.state_dir) / f"{live.environment}.sqlite"


@dataclass(frozen=True, slots=True)
class StoredAccount:
    cash: float
    positions: dict[str, float]
    open_orders: list[dict[str, Any]]
    fills: int
    orders: int


@dataclass(frozen=True, slots=True)
class Checkpoint:
    last_bar: int
    last_ns: int | None
    order_seq: int
    books_cash: float
    books_positions: dict[str, float] = field(default_factory=dict)
    open_orders: list[str] = field(default_factory=list)


class AccountStore:
    """The `store` slot: a private SQLite connection for one account (the strategy)."""

    inline_stop = True

    def __init__(self, live: LiveConfig, run_id: str) -> None:
        self.path = store_path(live)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.account = run_id
        self._lock = threading.Lock()
        # Used from the container thread and, for stop(), the teardown thread; the lock
        # keeps it to one user at a time.
        self._db: sqlite3.Connection | None = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        # NORMAL in WAL mode survives a killed process (the OS holds the pages).
        self._db.execute("PRAGMA synchronous=NORMAL")
        (mode,) = self._db.execute("PRAGMA journal_mode").fetchone()
        if str(mode).lower() != "wal":
            prepare_store(self.path)
        self._in_tx = False
        # Called once when the store stops, before it closes (the engine's final export).
        self.on_stop: Callable[[], None] | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise sqlite3.ProgrammingError(f"store of {self.account!r} is closed")
        return self._db

    # -- transactions ------------------------------------------------------------
    def begin(self) -> None:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            self._in_tx = True

    def commit(self) -> None:
        with self._lock:
            self.db.execute("COMMIT")
            self._in_tx = False

    def rollback(self) -> None:
        with self._lock:
            if self._in_tx and self._db is not None:
                self._db.execute("ROLLBACK")
            self._in_tx = False

    # -- venue side ----------------------------------------------------------------
    def load_account(self) -> StoredAccount | None:
        db, a = self.db, self.account
        row = db.execute("SELECT cash FROM venue_accounts WHERE account=?", (a,)).fetchone()
        if row is None:
            return None
        positions = dict(
            db.execute("SELECT key, qty FROM venue_positions WHERE account=?", (a,)).fetchall()
        )
        opened = [
            json.loads(r[0])
            for r in db.execute(
                "SELECT record FROM venue_orders WHERE account=? AND status IN (?,?,?) "
                "ORDER BY order_id",
                (a, *ACTIVE),
            )
        ]
        (fills,) = db.execute("SELECT count(*) FROM venue_fills WHERE account=?", (a,)).fetchone()
        (orders,) = db.execute("SELECT count(*) FROM venue_orders WHERE account=?", (a,)).fetchone()
        return StoredAccount(float(row[0]), positions, opened, int(fills), int(orders))

    def write_account(
        self,
        venue: str,
        cash: float,
        positions: dict[str, float],
        orders: list[dict[str, Any]],
        fills: list[Fill],
        fill_seq0: int,
    ) -> None:
        db, a = self.db, self.account
        db.execute(
            "INSERT INTO venue_accounts(account, venue, cash) VALUES (?,?,?) "
            "ON CONFLICT(account) DO UPDATE SET cash=excluded.cash",
            (a, venue, cash),
        )
        db.execute("DELETE FROM venue_positions WHERE account=?", (a,))
        db.executemany(
            "INSERT INTO venue_positions(account, key, qty) VALUES (?,?,?)",
            [(a, k, q) for k, q in sorted(positions.items()) if q],
        )
        db.executemany(
            "INSERT INTO venue_orders(account, order_id, status, record) VALUES (?,?,?,?) "
            "ON CONFLICT(account, order_id) DO UPDATE SET status=excluded.status, "
            "record=excluded.record",
            [(a, r["id"], r["status"], json.dumps(r, sort_keys=True)) for r in orders],
        )
        db.executemany(
            "INSERT INTO venue_fills(account, seq, order_id, symbol, venue, qty, price, fee, bar) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            # Without `trade_id`: the stored fill predates it.
            [
                (a, fill_seq0 + n, f.order_id, f.symbol, f.venue, f.qty, f.price, f.fee, f.bar)
                for n, f in enumerate(fills)
            ],
        )

    # -- container side ----------------------------------------------------------
    def load_checkpoint(self) -> Checkpoint | None:
        row = self.db.execute(
            "SELECT last_bar, last_ns, order_seq, books_cash, books_positions, open_orders "
            "FROM container_checkpoints WHERE account=?",
            (self.account,),
        ).fetchone()
        if row is None:
            return None
        return Checkpoint(
            int(row[0]),
            None if row[1] is None else int(row[1]),
            int(row[2]),
            float(row[3]),
            json.loads(row[4]),
            json.loads(row[5]),
        )

    def write_checkpoint(self, cp: Checkpoint) -> None:
        self.db.execute(
            "INSERT INTO container_checkpoints(account, last_bar, last_ns, order_seq, books_cash, "
            "books_positions, open_orders) VALUES (?,?,?,?,?,?,?) ON CONFLICT(account) DO UPDATE "
            "SET last_bar=excluded.last_bar, last_ns=excluded.last_ns, "
            "order_seq=excluded.order_seq, books_cash=excluded.books_cash, "
            "books_positions=excluded.books_positions, open_orders=excluded.open_orders",
            (
                self.account,
                cp.last_bar,
                cp.last_ns,
                cp.order_seq,
                cp.books_cash,
                json.dumps({k: v for k, v in sorted(cp.books_positions.items()) if v}),
                json.dumps(sorted(cp.open_orders)),
            ),
        )

    def write_venue_cash(self, cash: dict[str, float]) -> None:
        """The books' cash of a container's other venues (a basis container's hedge venue),
        inside the bar's transaction; the checkpoint row holds the first venue's."""
        self.db.executemany(
            "INSERT OR REPLACE INTO container_venue_cash(account, venue, cash) VALUES (?,?,?)",
            [(self.account, v, c) for v, c in sorted(cash.items())],
        )

    def load_venue_cash(self) -> dict[str, float]:
        # An older store has no such table until the manager's next prepare_store.
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS container_venue_cash (account TEXT NOT NULL, "
            "venue TEXT NOT NULL, cash REAL NOT NULL, PRIMARY KEY (account, venue))"
        )
        rows = self.db.execute(
            "SELECT venue, cash FROM container_venue_cash WHERE account=?", (self.account,)
        )
        return {str(v): float(c) for v, c in rows}

    # -- the session record (exports and replay read it) ---------------------------------
    def write_bar(
        self,
        bar: int,
        time_ns: int,
        equity: float,
        cash: float,
        values: dict[str, float],
        kill_switch: str,
    ) -> None:
        """One processed bar: the books' equity after it and the kill switch it ran under."""
        self.db.execute(
            "INSERT OR REPLACE INTO container_bars(account, bar, time_ns, equity, cash, "
            "position_values, kill_switch) VALUES (?,?,?,?,?,?,?)",
            (self.account, bar, time_ns, equity, cash, json.dumps(values), kill_switch),
        )

    def trades_total(self) -> int:
        (n,) = self.db.execute(
            "SELECT count(*) FROM container_trades WHERE account=?", (self.account,)
        ).fetchone()
        return int(n)

    def write_trades(self, seq0: int, records: list[dict[str, Any]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO container_trades(account, seq, record) VALUES (?,?,?)",
            [(self.account, seq0 + n, json.dumps(r)) for n, r in enumerate(records)],
        )

    def write_session(
        self, started: str, mode: str, from_bar: int, config: str, data: dict[str, str]
    ) -> None:
        """One container start: what replay needs to rebuild it (config, data fingerprints)."""
        db, a = self.db, self.account
        with self._lock:
            (seq,) = db.execute(
                "SELECT count(*) FROM container_sessions WHERE account=?", (a,)
            ).fetchone()
            db.execute(
                "INSERT INTO container_sessions(account, seq, started, mode, from_bar, config, "
                "data) VALUES (?,?,?,?,?,?,?)",
                (a, int(seq), started, mode, from_bar, config, json.dumps(data, sort_keys=True)),
            )

    def stop(self) -> None:
        hook, self.on_stop = self.on_stop, None
        if hook is not None and self._db is not None:
            hook()
        with self._lock:
            if self._db is not None:
                if self._in_tx:
                    self._db.execute("ROLLBACK")
                    self._in_tx = False
                self._db.close()
                self._db = None


def read_account_rows(
    path: Path, account: str, db: sqlite3.Connection | None = None
) -> dict[str, Any]:
    """Everything stored for `account` (orders and fills in order): for tools and tests.

    With `db` (a connection to `path`, e.g. in a read transaction) it reads through it."""
    own = db is None
    if db is None:
        db = sqlite3.connect(path, timeout=30.0)
    try:
        orders = [
            json.loads(r[0])
            for r in db.execute(
                "SELECT record FROM venue_orders WHERE account=? ORDER BY order_id", (account,)
            )
        ]
        fills = [
            dict(
                zip(
                    ("seq", "order_id", "symbol", "venue", "qty", "price", "fee", "bar"),
                    r,
                    strict=True,
                )
            )
            for r in db.execute(
                "SELECT seq, order_id, symbol, venue, qty, price, fee, bar FROM venue_fills "
                "WHERE account=? ORDER BY seq",
                (account,),
            )
        ]
        positions = dict(
            db.execute("SELECT key, qty FROM venue_positions WHERE account=?", (account,))
        )
        row = db.execute("SELECT cash FROM venue_accounts WHERE account=?", (account,)).fetchone()
        return {
            "orders": orders,
            "fills": fills,
            "positions": positions,
            "cash": None if row is None else row[0],
        }
    finally:
        if own:
            db.close()


# -- the operators' kill switch (manager side) -------------------------------------------
def _kill_db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    # A trip must survive a power loss too, not only a killed process.
    db.execute("PRAGMA synchronous=FULL")
    return db


def record_kill_switch(path: Path, strategy: str | None, entry: dict[str, Any]) -> None:
    """Persist an operator's trip (or reset) and its audit entry in ONE transaction.

    A global trip replaces every per-strategy state (as it does in memory); a global
    ACTIVE therefore clears them all. A per-strategy state, ACTIVE included, is kept:
    it overrides the global one for that strategy until the next global trip.
    """
    state, reason, by, time = entry["state"], entry["reason"], entry["by"], entry["time"]
    db = _kill_db(path)
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            if strategy is None:
                db.execute("DELETE FROM kill_switch")
                if state != "ACTIVE":
                    db.execute(
                        "INSERT INTO kill_switch(scope, state, reason, by, time) "
                        "VALUES (?,?,?,?,?)",
                        (GLOBAL_SCOPE, state, reason, by, time),
                    )
            else:
                db.execute(
                    "INSERT INTO kill_switch(scope, state, reason, by, time) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(scope) DO UPDATE SET state=excluded.state, "
                    "reason=excluded.reason, by=excluded.by, time=excluded.time",
                    (strategy, state, reason, by, time),
                )
            db.execute(
                "INSERT INTO kill_switch_audit(time, scope, state, reason, by) VALUES (?,?,?,?,?)",
                (time, entry["scope"], state, reason, by),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    finally:
        db.close()


def load_kill_switches(path: Path) -> dict[str, dict[str, str]]:
    """Every persisted operator state, keyed by strategy (`GLOBAL_SCOPE` for the global one):
    `{"state", "reason", "by", "time"}`."""
    db = _kill_db(path)
    try:
        rows = db.execute(
            "SELECT scope, state, reason, by, time FROM kill_switch ORDER BY scope"
        ).fetchall()
    finally:
        db.close()
    keys = ("state", "reason", "by", "time")
    return {str(r[0]): dict(zip(keys, map(str, r[1:]), strict=True)) for r in rows}


def read_kill_audit(path: Path) -> list[dict[str, Any]]:
    """Every operator trip recorded in the store, oldest first: for tools and tests."""
    db = sqlite3.connect(path, timeout=30.0)
    try:
        keys = ("time", "scope", "state", "reason", "by")
        return [
            dict(zip(keys, r, strict=True))
            for r in db.execute(
                "SELECT time, scope, state, reason, by FROM kill_switch_audit ORDER BY seq"
            )
        ]
    finally:
        db.close()
