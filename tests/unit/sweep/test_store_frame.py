"""The trials table a store returns equals the plain row-wise pandas table.

The store builds it column by column (a fast path): this checks it against the
obvious construction — one row per trial, the params expanded beside it, the
stats columns as float64 — over stores with failures, missing stats, params a
trial does not have, and params of every JSON type.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from isoloop.sweep import SweepStore, TrialResult, TrialSpec
from isoloop.sweep.spec import STATS_KEYS
from isoloop.sweep.store import TRIAL_COLUMNS


def _reference(store: SweepStore) -> pd.DataFrame:
    rows = list(store.rows())
    frame = pd.DataFrame(rows, columns=list(TRIAL_COLUMNS))
    params = pd.DataFrame([r["params"] for r in rows]).add_prefix("param.")
    frame = pd.concat([frame[["trial_id"]], params, frame.drop(columns="trial_id")], axis=1)
    frame = frame.astype(dict.fromkeys(STATS_KEYS, "float64"))
    return frame.sort_values("trial_id", ignore_index=True)


def _record(store: SweepStore, trial_id: int, params: dict[str, Any], status: str) -> None:
    ok = status == "ok"
    stats = {"sharpe_ratio": 1.5 * trial_id, "trades": float(trial_id), "mine": 2.0} if ok else {}
    if ok and trial_id % 3 == 0:
        stats["sharpe_ratio"] = math.nan  # stored as NULL
    result = TrialResult(
        trial_id=trial_id,
        status=status,  # type: ignore[arg-type]
        stats=stats,
        digest="ab" * 32 if ok else None,
        attempts=1 + (status == "crashed"),
        worker="host:1",
        error=None if ok else f"ValueError: trial {trial_id}",
        memory_rss_mb=None if trial_id % 2 else 100.0 + trial_id,
        recycled=status == "memory",
        recycle_reason="memory: the trial ran out of memory" if status == "memory" else None,
        started_at=1_700_000_000.0 + trial_id,
        finished_at=1_700_000_001.0 + trial_id,
    )
    store.record(TrialSpec(trial_id, params, 1000 + trial_id), result)


def test_a_mixed_store_gives_the_reference_table():
    statuses = ["ok", "error", "ok", "timeout", "crashed", "memory", "ok"]
    with SweepStore(None) as store:
        for i, status in reversed(list(enumerate(statuses))):  # stored out of order
            params: dict[str, Any] = {"fast": i, "slow": 10 + i}
            if i % 2:
                params["mode"] = "long" if i % 3 else "short"
            if i == 4:
                params = {"flag": True, "fast": 0.5}
            _record(store, i, params, status)
        frame = store.frame()
        pd.testing.assert_frame_equal(frame, _reference(store))
    assert list(frame.columns[:5]) == [
        "trial_id",
        "param.fast",
        "param.slow",
        "param.mode",
        "param.flag",
    ]
    assert list(frame["trial_id"]) == list(range(len(statuses)))
    assert frame["sharpe_ratio"].isna().sum() == 6  # five failures and trial 0's NaN


def test_only_failures_still_has_float_stats_columns():
    with SweepStore(None) as store:
        for i in range(3):
            _record(store, i, {"a": i}, "error")
        frame = store.frame()
        pd.testing.assert_frame_equal(frame, _reference(store))
    assert all(frame[key].dtype == "float64" for key in STATS_KEYS)


_VALUES = hs.one_of(
    hs.integers(-(2**40), 2**40),
    hs.floats(allow_nan=False, allow_infinity=False),
    hs.booleans(),
    hs.text(max_size=5),
    hs.none(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hs.lists(
        hs.tuples(
            hs.dictionaries(hs.sampled_from(["a", "b", "c"]), _VALUES, max_size=3),
            hs.sampled_from(["ok", "error"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_params_give_the_reference_table(trials):
    with SweepStore(None) as store:
        for i, (params, status) in enumerate(trials):
            _record(store, i, params, status)
        pd.testing.assert_frame_equal(store.frame(), _reference(store))
