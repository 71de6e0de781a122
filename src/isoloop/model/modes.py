"""The six execution modes a run can be in, named once for manifests, states and the API.

A mode says what kind of work a container does, not how it is built: the same
blueprint slots run in each, and the mode is recorded wherever a result is
published (a run's manifest, a sweep's summary, a live container's state) so a
reader can tell a paper fill from a backtest fill without guessing from paths.
"""

from __future__ import annotations

from enum import StrEnum


class ExecutionMode(StrEnum):
    """What a run is: its value is what manifests, states and the API carry."""

    BACKTEST_SINGLE = "BACKTEST_SINGLE"  # one backtest (`isoloop backtest`, `run_backtest`)
    BACKTEST_PARALLEL = "BACKTEST_PARALLEL"  # a grid/random/walk-forward sweep's trials
    OPTIMIZATION = "OPTIMIZATION"  # an optuna search's trials
    LIVE_TRADING = "LIVE_TRADING"  # a live container on a real venue adapter
    PAPER_TRADING = "PAPER_TRADING"  # a live container on the paper venue
    REPLAY = "REPLAY"  # a recorded live/paper session re-run through a fresh container


__all__ = ["ExecutionMode"]
