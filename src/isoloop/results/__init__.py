"""Run results: metrics, digests and HTML reports."""

from isoloop.results.digest import (
    canonical,
    canonical_json,
    order_list_hash,
    run_digest,
    sweep_digest,
)
from isoloop.results.metrics import STATS_KEYS, compute_stats, geometric_mean, stats_equal

__all__ = [
    "STATS_KEYS",
    "canonical",
    "canonical_json",
    "compute_stats",
    "geometric_mean",
    "order_list_hash",
    "run_digest",
    "stats_equal",
    "sweep_digest",
]
