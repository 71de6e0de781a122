"""A trial row's JSON columns are the text `json.dumps` writes for them (the store keeps
its encoders instead of building one per call)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from isoloop.sweep.spec import STATS_KEYS, TrialResult, TrialSpec
from isoloop.sweep.store import SweepStore


def raw_row(store: SweepStore, trial_id: int) -> tuple[str, str, str]:
    query = "SELECT params, stats_extra, extra FROM trials WHERE trial_id = ?"
    row = store._db.execute(query, (trial_id,)).fetchone()
    return row[0], row[1], row[2]


def test_json_columns_are_what_json_dumps_writes(tmp_path: Path) -> None:
    with SweepStore(tmp_path / "s.sqlite") as store:
        store.bind("k", {})
        stats = dict.fromkeys(STATS_KEYS, 1.5)
        cases = [
            ({"slow": 20, "fast": 5, "name": "é"}, {**stats, "zeta": 2.0, "alpha": 1.0}, {}),
            ({}, {}, {"data": {"GOOG": "ab"}, "when": Path("x"), "b": [1, 2]}),
            ({"x": [1.5, None, True]}, {"only_extra": math.inf}, {"a": 1}),
        ]
        for trial_id, (params, trial_stats, extra) in enumerate(cases):
            spec = TrialSpec(trial_id, params, 7)
            store.record(
                spec, TrialResult(trial_id, "ok", trial_stats, None, 1, "h:1", extra=extra)
            )
            stats_extra = {k: v for k, v in trial_stats.items() if k not in STATS_KEYS}
            assert raw_row(store, trial_id) == (
                json.dumps(params),
                json.dumps(stats_extra, sort_keys=True),
                json.dumps(extra, sort_keys=True, default=str),
            )
            row = store.row(trial_id)
            assert row["params"] == json.loads(json.dumps(params))
            assert row["extra"] == json.loads(json.dumps(extra, default=str))
