"""The sweep store: one SQLite file (WAL), one row per trial keyed by trial id.

Only the driver writes it, one commit per result as it arrives, so a killed
driver loses at most the trials that were in flight. A store holds exactly one
sweep: its `sweeps` row carries the sweep key (a hash of space, constraint,
search, base config and seed) and a different sweep is refused rather than
mixed in.

Resume policy: every recorded row is final. Executors record a row only once a
trial is over: "ok"; "error" (the trial function raised — rerunning gives the
same answer; `error` is its one-line summary, `traceback` its stack trace);
"timeout" (timeouts are not retried); "crashed" (its worker died on every one
of `1 + retries` attempts); "memory" (the trial ran out of memory — rerunning
gives the same answer). So `completed_ids()` returns all ids
with a row, and a resumed sweep reruns only ids without one. To rerun failed
trials after fixing their cause, pass `retry_failed=True`: then only "ok" rows
count as done and the failed rows are overwritten.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from math import isfinite
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from isoloop.errors import ConfigError
from isoloop.sweep.spec import STATS_KEYS, TRIAL_STATUSES, TrialResult, TrialSpec

__all__ = ["TRIAL_COLUMNS", "SweepStore"]

TRIAL_COLUMNS: tuple[str, ...] = (
    "trial_id",
    "params",
    "seed",
    "status",
    *STATS_KEYS,
    "stats_extra",
    "digest",
    "attempts",
    "worker",
    "error",
    "memory_rss_mb",
    "recycled",
    "recycle_reason",
    "extra",
    "started_at",
    "finished_at",
    "traceback",
)

_STATS = frozenset(STATS_KEYS)
_INSERT = (
    f"INSERT OR REPLACE INTO trials ({', '.join(TRIAL_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in TRIAL_COLUMNS)})"
)
_STATUSES = ", ".join(f"'{status}'" for status in TRIAL_STATUSES)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_key TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    trial_id INTEGER PRIMARY KEY,
    params TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({_STATUSES})),
    {", ".join(f"{key} REAL" for key in STATS_KEYS)},
    stats_extra TEXT NOT NULL,
    digest TEXT,
    attempts INTEGER NOT NULL,
    worker TEXT NOT NULL,
    error TEXT,
    memory_rss_mb REAL,
    recycled INTEGER NOT NULL,
    recycle_reason TEXT,
    extra TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    traceback TEXT
);
"""


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


class SweepStore:
    """SQLite-backed trial table for one sweep; `path=None` keeps it in memory."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = None if path is None else Path(path)
        self._plain = json.JSONEncoder().encode
        self._sorted = json.JSONEncoder(sort_keys=True).encode
        self._lenient = json.JSONEncoder(sort_keys=True, default=str).encode
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        target = ":memory:" if self.path is None else str(self.path)
        try:
            # A reader (a test, a status command) may open the file while the driver
            # writes: wait for locks instead of failing, and write nothing when the
            # schema and WAL mode are already in place.
            self._db = sqlite3.connect(target, isolation_level=None, timeout=30.0)
            if self.path is not None:
                mode = self._db.execute("PRAGMA journal_mode").fetchone()[0]
                if mode != "wal":
                    self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
            if not {"sweeps", "trials"} <= tables:
                self._db.executescript(_SCHEMA)
            else:
                self._upgrade()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"sweep store {target}: cannot open as SQLite ({exc}); point `store` at a new file"
            ) from None

    def _upgrade(self) -> None:
        """A store written by an earlier release: add the stats keys added since (NULL in
        its rows: not reported), and widen a status CHECK written before the "memory"
        status, keeping every row.

        SQLite cannot alter a CHECK constraint, so that table is copied into one with
        the current schema inside one transaction (a crash leaves the old table).
        """
        have = {row[1] for row in self._db.execute("PRAGMA table_info(trials)")}
        for key in STATS_KEYS:
            if key not in have:
                self._db.execute(f"ALTER TABLE trials ADD COLUMN {key} REAL")
        if "traceback" not in have:  # a store from before failed trials kept their trace
            self._db.execute("ALTER TABLE trials ADD COLUMN traceback TEXT")
        row = self._db.execute("SELECT sql FROM sqlite_master WHERE name = 'trials'").fetchone()
        if row is None or all(f"'{status}'" in row[0] for status in TRIAL_STATUSES):
            return
        columns = ", ".join(TRIAL_COLUMNS)
        create = _SCHEMA.split("CREATE TABLE IF NOT EXISTS trials", 1)[1]
        self._db.executescript(
            f"""
            BEGIN;
            ALTER TABLE trials RENAME TO trials_old;
            CREATE TABLE trials {create}
            INSERT INTO trials ({columns}) SELECT {columns} FROM trials_old;
            DROP TABLE trials_old;
            COMMIT;
            """
        )

    def bind(self, sweep_key: str, definition: Mapping[str, Any]) -> bool:
        """Claim the store for this sweep; True if it already held it (a resume)."""
        rows = self._db.execute("SELECT sweep_key FROM sweeps").fetchall()
        if not rows:
            self._db.execute(
                "INSERT INTO sweeps VALUES (?, ?, ?)",
                (sweep_key, json.dumps(definition, sort_keys=True, default=str), _iso(time.time())),
            )
            return False
        stored = rows[0][0]
        if stored != sweep_key:
            raise ConfigError(
                f"sweep store {self.path} holds a different sweep (key {stored[:12]}, "
                f"this one {sweep_key[:12]}: space, constraint, search, base config or seed "
                "changed); use another `store` path or delete the file to start over"
            )
        return True

    def completed_ids(self, *, retry_failed: bool = False) -> set[int]:
        query = "SELECT trial_id FROM trials"
        if retry_failed:
            query += " WHERE status = 'ok'"
        return {row[0] for row in self._db.execute(query)}

    def record(self, spec: TrialSpec, result: TrialResult) -> None:
        """Write (or, for a retried failure, replace) one trial row and commit."""
        stats = dict(result.stats)
        known: list[float | None] = []
        # SQLite has no NaN: NaN and ±inf are stored as NULL (read back as NaN). Once per
        # trial in the driver, for every stats key: no per-key function call.
        for key in STATS_KEYS:
            value = stats.pop(key, None)
            if value is not None:
                value = float(value)
                if not isfinite(value):
                    value = None
            known.append(value)
        # The encoders `json.dumps` would build for these arguments, built once per store
        # (≈ 2 µs per call each otherwise); an empty mapping is "{}" either way.
        extra = result.extra
        values = (
            result.trial_id,
            self._plain(dict(spec.params)),
            spec.seed,
            result.status,
            *known,
            self._sorted(stats) if stats else "{}",
            result.digest,
            result.attempts,
            result.worker,
            result.error,
            result.memory_rss_mb,
            int(result.recycled),
            result.recycle_reason,
            self._lenient(dict(extra)) if extra else "{}",
            _iso(result.started_at),
            _iso(result.finished_at),
            result.traceback,
        )
        self._db.execute(_INSERT, values)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM trials").fetchone()[0])

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every trial row, sorted by trial id, with JSON columns decoded."""
        cursor = self._db.execute(
            f"SELECT {', '.join(TRIAL_COLUMNS)} FROM trials ORDER BY trial_id"
        )
        for raw in cursor:
            yield self._decode(raw)

    def row(self, trial_id: int) -> dict[str, Any]:
        """One trial's row (JSON columns decoded); KeyError when it has none."""
        cursor = self._db.execute(
            f"SELECT {', '.join(TRIAL_COLUMNS)} FROM trials WHERE trial_id = ?", (trial_id,)
        )
        raw = cursor.fetchone()
        if raw is None:
            raise KeyError(trial_id)
        return self._decode(raw)

    def _decode(self, raw: tuple[Any, ...]) -> dict[str, Any]:
        row = dict(zip(TRIAL_COLUMNS, raw, strict=True))
        for key in ("params", "stats_extra", "extra"):
            row[key] = json.loads(row[key])
        row["recycled"] = bool(row["recycled"])
        return row

    def frame(self, rows: list[dict[str, Any]] | None = None) -> pd.DataFrame:
        """The trials table: one column per parameter (`param.<key>`), sorted by trial id
        (`rows`: what `rows()` just returned, when the caller has read them already)."""
        rows = list(self.rows()) if rows is None else rows
        if not rows:
            return pd.DataFrame(columns=["trial_id", *TRIAL_COLUMNS[1:]])
        # Built column by column: the row-wise constructor, a concat and a cast cost
        # ≈ 7 ms at the end of a 50-trial sweep, this ≈ 2.
        columns: dict[str, Any] = {"trial_id": [r["trial_id"] for r in rows]}
        keys = dict.fromkeys(key for r in rows for key in r["params"])
        for key in keys:  # in first-seen order; a trial without the key gets NaN
            columns[f"param.{key}"] = [r["params"].get(key, math.nan) for r in rows]
        for name in TRIAL_COLUMNS[1:]:
            values = [r[name] for r in rows]
            stat = name in _STATS
            columns[name] = np.array(values, dtype="float64") if stat else values
        return pd.DataFrame(columns)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
