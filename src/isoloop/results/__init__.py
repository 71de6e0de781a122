"""Run results: metrics, digests and HTML reports.

Names load on first use (`isoloop.lazy`): code that needs a digest or a run folder name
check does not load plotly and the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from isoloop.lazy import lazy_exports

if TYPE_CHECKING:
    from isoloop.results.digest import (
        DIGEST_STATS_KEYS,
        canonical,
        canonical_json,
        run_digest,
        sweep_digest,
    )
    from isoloop.results.labels import (
        BACKTESTING_STATS_LABELS,
        BACKTESTING_TRADE_COLUMNS,
        backtesting_stats,
        backtesting_trades,
    )
    from isoloop.results.metrics import (
        STATS_KEYS,
        Calendar,
        compute_stats,
        geometric_mean,
        stats_equal,
    )
    from isoloop.results.order_hash import DIGEST_VERSION, order_list_hash, order_list_hash_v1
    from isoloop.results.report import decimate, write_report
    from isoloop.results.trades import trades_table

__all__ = [
    "BACKTESTING_STATS_LABELS",
    "BACKTESTING_TRADE_COLUMNS",
    "DIGEST_STATS_KEYS",
    "DIGEST_VERSION",
    "STATS_KEYS",
    "Calendar",
    "backtesting_stats",
    "backtesting_trades",
    "canonical",
    "canonical_json",
    "compute_stats",
    "decimate",
    "geometric_mean",
    "order_list_hash",
    "order_list_hash_v1",
    "run_digest",
    "stats_equal",
    "sweep_digest",
    "trades_table",
    "write_report",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DIGEST_STATS_KEYS": "isoloop.results.digest",
        "canonical": "isoloop.results.digest",
        "canonical_json": "isoloop.results.digest",
        "DIGEST_VERSION": "isoloop.results.order_hash",
        "order_list_hash": "isoloop.results.order_hash",
        "order_list_hash_v1": "isoloop.results.order_hash",
        "run_digest": "isoloop.results.digest",
        "sweep_digest": "isoloop.results.digest",
        "BACKTESTING_STATS_LABELS": "isoloop.results.labels",
        "BACKTESTING_TRADE_COLUMNS": "isoloop.results.labels",
        "backtesting_stats": "isoloop.results.labels",
        "backtesting_trades": "isoloop.results.labels",
        "STATS_KEYS": "isoloop.results.metrics",
        "Calendar": "isoloop.results.metrics",
        "compute_stats": "isoloop.results.metrics",
        "geometric_mean": "isoloop.results.metrics",
        "stats_equal": "isoloop.results.metrics",
        "decimate": "isoloop.results.report",
        "write_report": "isoloop.results.report",
        "trades_table": "isoloop.results.trades",
    },
)
