"""Run results: metrics, digests and HTML reports."""

from isoloop.results.digest import (
    canonical,
    canonical_json,
    order_list_hash,
    run_digest,
    sweep_digest,
)
from isoloop.results.metrics import STATS_KEYS, compute_stats, geometric_mean, stats_equal
from isoloop.results.report import decimate, write_report

__all__ = [
    "STATS_KEYS",
    "canonical",
    "canonical_json",
    "compute_stats",
    "decimate",
    "geometric_mean",
    "order_list_hash",
    "run_digest",
    "stats_equal",
    "sweep_digest",
    "write_report",
]
