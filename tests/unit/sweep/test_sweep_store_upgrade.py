"""A sweep store written before the stats keys grew still resumes and takes new rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from isoloop.results.metrics import STATS_KEYS
from isoloop.sweep import SweepStore, TrialResult, TrialSpec

# Keys the first published contract had; a store of that release has only these columns.
FIRST_KEYS = ("equity_final", "return_pct", "sharpe_ratio", "max_drawdown_pct", "trades")


def test_a_store_without_the_newer_stats_columns_takes_rows_with_every_key(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite"
    with SweepStore(path) as store:
        store.bind("k", {"space": {}})
        store.record(
            TrialSpec(0, {"fast": 5}, 1),
            TrialResult(0, "ok", dict.fromkeys(STATS_KEYS, 1.0), "d0", 1, "w"),
        )
    newer = [k for k in STATS_KEYS if k not in FIRST_KEYS]
    db = sqlite3.connect(path)
    for key in newer:  # as an earlier release wrote it
        db.execute(f"ALTER TABLE trials DROP COLUMN {key}")
    db.commit()
    db.close()
    with SweepStore(path) as store:
        assert store.bind("k", {"space": {}})  # the same sweep: a resume
        stats = {k: float(i) for i, k in enumerate(STATS_KEYS)}
        store.record(TrialSpec(1, {"fast": 10}, 2), TrialResult(1, "ok", stats, "d1", 1, "w"))
        rows = list(store.rows())
    assert [r["digest"] for r in rows] == ["d0", "d1"]
    assert all(rows[0][k] is None for k in newer)  # not reported by the old release
    assert rows[0]["sharpe_ratio"] == 1.0
    assert {k: rows[1][k] for k in STATS_KEYS} == stats
