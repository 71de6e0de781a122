"""Reading a live container's session record back from its state store.

Every processed bar writes, in the same transaction as the venue account and the
checkpoint, one `container_bars` row (bar, time, the books' equity, cash and
position values after it, the kill switch state it ran under) and any trades it
closed (`container_trades`); every container start writes a `container_sessions`
row (mode, the bar it resumed after, its config, its data's fingerprints). The
exports and the replay are built from these rows only, so they hold for a
process that was killed as well as for one that stopped cleanly.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isoloop.errors import ConfigError

__all__ = [
    "RecordedBar",
    "RecordedSession",
    "find_store",
    "read_bars",
    "read_sessions",
    "read_trades",
    "recorded_accounts",
    "snapshot",
]

STORES = ("paper.sqlite", "live.sqlite")


@dataclass(frozen=True, slots=True)
class RecordedBar:
    bar: int
    time_ns: int
    equity: float
    cash: float
    values: dict[str, float]
    kill_switch: str


@dataclass(frozen=True, slots=True)
class RecordedSession:
    seq: int
    started: str
    mode: str
    from_bar: int
    config: str  # canonical JSON of the live config, this strategy only
    data: dict[str, str]  # symbol -> data fingerprint


def _connect(path: Path) -> sqlite3.Connection:
    # Read only: a reader must never create a store where none was (or change one).
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)


@contextmanager
def snapshot(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection in one read transaction: every read through it sees the
    same committed state, even while the session's container keeps writing."""
    db = _connect(path)
    db.isolation_level = None
    try:
        db.execute("BEGIN")
        yield db
        db.execute("COMMIT")
    finally:
        db.close()


def _rows(
    path: Path, sql: str, account: str, db: sqlite3.Connection | None = None
) -> list[tuple[Any, ...]]:
    conn = _connect(path) if db is None else db
    try:
        return conn.execute(sql, (account,)).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []  # a store written before session recording existed
        raise
    finally:
        if db is None:
            conn.close()


def _num(value: float | None) -> float:
    return math.nan if value is None else float(value)  # SQLite stores NaN as NULL


def read_bars(path: Path, account: str, db: sqlite3.Connection | None = None) -> list[RecordedBar]:
    """The bars `account` processed, in bar order (through `db` if given)."""
    return [
        RecordedBar(int(r[0]), int(r[1]), _num(r[2]), _num(r[3]), json.loads(r[4]), str(r[5]))
        for r in _rows(
            path,
            "SELECT bar, time_ns, equity, cash, position_values, kill_switch FROM container_bars "
            "WHERE account=? ORDER BY bar",
            account,
            db,
        )
    ]


def read_trades(
    path: Path, account: str, db: sqlite3.Connection | None = None
) -> list[dict[str, Any]]:
    """`account`'s closed trades, in closing order (the fields of the engine's ClosedTrade)."""
    return [
        json.loads(r[0])
        for r in _rows(
            path, "SELECT record FROM container_trades WHERE account=? ORDER BY seq", account, db
        )
    ]


def read_sessions(path: Path, account: str) -> list[RecordedSession]:
    """Every start of `account`'s container, oldest first."""
    return [
        RecordedSession(int(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4]), json.loads(r[5]))
        for r in _rows(
            path,
            "SELECT seq, started, mode, from_bar, config, data FROM container_sessions "
            "WHERE account=? ORDER BY seq",
            account,
        )
    ]


def find_store(target: Path) -> Path:
    """The state store of a state folder (or the store file itself)."""
    if target.is_file():
        return target
    if not target.is_dir():
        raise ConfigError(
            f"{target}: no such state folder; pass the `state_dir` of a live/paper config "
            "(the folder holding paper.sqlite or live.sqlite)"
        )
    found = [target / n for n in STORES if (target / n).is_file()]
    if not found:
        raise ConfigError(
            f"{target}: holds no paper.sqlite or live.sqlite; pass the `state_dir` of a "
            "live/paper config that has run"
        )
    if len(found) > 1:
        raise ConfigError(
            f"{target}: holds both paper.sqlite and live.sqlite; pass the store file to use"
        )
    return found[0]


def recorded_accounts(path: Path) -> list[str]:
    """Every strategy with a recorded session in the store, sorted."""
    db = _connect(path)
    try:
        rows = db.execute("SELECT DISTINCT account FROM container_sessions ORDER BY account")
        return [str(r[0]) for r in rows]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path}: not a state store ({exc})") from None
    finally:
        db.close()
