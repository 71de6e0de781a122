"""Run digests hash the stats contract as first published, so adding a stat changes no digest."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from isoloop import run_backtest
from isoloop.results.digest import DIGEST_STATS_KEYS, run_digest
from isoloop.results.metrics import STATS_KEYS
from isoloop.results.order_hash import order_list_hash

ROOT = Path(__file__).resolve().parents[3]
#: The digest of configs/goog_sma.yaml published in README.md before any stat was added.
GOLDEN = "181ef2a907cbdbd93e6110db8dcef3fdee8af1b8d2d6eb2cddefd112195f48de"

EQUITY = np.array([10_000.0, 10_050.0, 9_980.0, 10_120.0])
HASH = order_list_hash([{"id": "o-1", "side": "buy", "qty": 1, "price": 100.0}])


def stats() -> dict[str, float]:
    return {key: float(i) + 0.5 for i, key in enumerate(STATS_KEYS)} | {"trades": 3}


def test_the_added_stats_do_not_enter_the_digest() -> None:
    full = stats()
    published = {key: full[key] for key in DIGEST_STATS_KEYS}
    assert run_digest(HASH, EQUITY, full) == run_digest(HASH, EQUITY, published)
    for key in set(STATS_KEYS) - set(DIGEST_STATS_KEYS):
        assert run_digest(HASH, EQUITY, full | {key: -1.25}) == run_digest(HASH, EQUITY, full)


def test_every_published_stat_still_enters_the_digest() -> None:
    base = run_digest(HASH, EQUITY, stats())
    for key in DIGEST_STATS_KEYS:
        assert run_digest(HASH, EQUITY, stats() | {key: -1.25}) != base, key


def test_the_published_goog_digest_is_unchanged_with_the_new_stats_reported() -> None:
    result = run_backtest(ROOT / "configs" / "goog_sma.yaml", report=False)
    assert set(STATS_KEYS) <= set(result.stats)
    assert result.stats["duration_days"] == 3116.0  # 2004-08-19 .. 2013-03-01
    assert result.digest == GOLDEN
