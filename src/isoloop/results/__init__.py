"""Run results: metrics, digests and HTML reports."""

from isoloop.results.metrics import STATS_KEYS, compute_stats, geometric_mean, stats_equal

__all__ = ["STATS_KEYS", "compute_stats", "geometric_mean", "stats_equal"]
