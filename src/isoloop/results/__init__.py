"""Run results: metrics, digests and HTML reports."""

from isoloop.results.digest import (
    DIGEST_STATS_KEYS,
    canonical,
    canonical_json,
    order_list_hash,
    run_digest,
    sweep_digest,
)
from isoloop.results.labels import (
    BACKTESTING_STATS_LABELS,
    BACKTESTING_TRADE_COLUMNS,
    backtesting_stats,
    backtesting_trades,
)
from isoloop.results.metrics import STATS_KEYS, compute_stats, geometric_mean, stats_equal
from isoloop.results.report import decimate, write_report
from isoloop.results.trades import trades_table

__all__ = [
    "BACKTESTING_STATS_LABELS",
    "BACKTESTING_TRADE_COLUMNS",
    "DIGEST_STATS_KEYS",
    "STATS_KEYS",
    "backtesting_stats",
    "backtesting_trades",
    "canonical",
    "canonical_json",
    "compute_stats",
    "decimate",
    "geometric_mean",
    "order_list_hash",
    "run_digest",
    "stats_equal",
    "sweep_digest",
    "trades_table",
    "write_report",
]
