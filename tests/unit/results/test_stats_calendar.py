"""A kept `Calendar` changes no stat, and every backtest on one data set shares it.

The calendar (bar period, resolution, returns' resolution, day boundaries) is
worked out once per shared index; a stat that came out different with it kept
would be a silent error in every sweep trial.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import isoloop
from isoloop.results.metrics import Calendar, compute_stats, stats_equal


def _index(kind: str, n: int) -> np.ndarray:
    start = pd.Timestamp("2020-01-06 09:30")
    if kind == "business":
        return pd.bdate_range(start.normalize(), periods=n).to_numpy()
    if kind == "weekly":
        return pd.date_range(start.normalize(), periods=n, freq="W").to_numpy()
    if kind == "monthly":
        return pd.date_range(start.normalize(), periods=n, freq="MS").to_numpy()
    if kind == "hourly":
        return pd.date_range(start, periods=n, freq="h").to_numpy()
    if kind == "gappy":  # minutes with a hole every 13 bars
        steps = np.where(np.arange(n) % 13 == 12, 47, 1)
        return (start + pd.to_timedelta(np.cumsum(steps), unit="min")).to_numpy()
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["business", "weekly", "monthly", "hourly", "gappy"])
@pytest.mark.parametrize("nan_equity", [False, True])
def test_stats_with_a_kept_calendar_equal_stats_without(kind: str, nan_equity: bool) -> None:
    n = 400
    index = _index(kind, n)
    rng = np.random.default_rng(11)
    equity = 10_000 * np.cumprod(1 + rng.normal(0, 0.01, n))
    if nan_equity:
        equity[50:60] = np.nan
    close = 100 * np.cumprod(1 + rng.normal(0, 0.01, n))
    trades = {
        "entry_bar": np.array([3.0, 40.0, 200.0]),
        "exit_bar": np.array([30.0, 150.0, np.nan]),
        "pnl": np.array([12.0, -4.0, 3.0]),
        "return_pct": np.array([0.02, -0.01, 0.004]),
        "commission": np.zeros(3),
    }
    fresh = compute_stats(equity, index, trades, close, warmup_bars=2)
    calendar = Calendar.of(index)
    kept = compute_stats(equity, index, trades, close, warmup_bars=2, calendar=calendar)
    again = compute_stats(equity, index, trades, close, warmup_bars=2, calendar=calendar)
    assert stats_equal(kept, fresh, rel=0.0) and stats_equal(again, fresh, rel=0.0)
    # One of another length is not used (it would misplace the day boundaries).
    other = Calendar.of(index[:-5])
    assert stats_equal(
        compute_stats(equity, index, trades, close, calendar=other),
        compute_stats(equity, index, trades, close),
        rel=0.0,
    )


def test_a_calendar_is_read_only() -> None:
    calendar = Calendar.of(_index("hourly", 100))
    with pytest.raises(ValueError, match="read-only"):
        calendar.day_last[0] = 5


def test_every_run_on_shared_data_has_the_stats_computed_afresh() -> None:
    from backtesting.test import GOOG

    from isoloop.backtest.trade_arrays import trade_columns
    from isoloop.data.cache import MarketDataCache

    cfg = {
        "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {"fast": 10}},
        "data": {"source": "sample:GOOG"},
        "venue": {"cash": 10_000, "commission": 0.0},
    }
    coordinator = isoloop.BacktestCoordinator(data_cache=MarketDataCache())
    for _ in range(3):  # the first run works the calendar out, the others reuse it
        run = coordinator.run_backtest(cfg)
        close = GOOG["Close"].to_numpy(dtype="float64")
        afresh = compute_stats(
            run.equity_values,
            run.index,
            trade_columns(run.output),
            close,
            warmup_bars=run.warmup_bars,
        )
        assert stats_equal(run.stats, afresh, rel=0.0)
