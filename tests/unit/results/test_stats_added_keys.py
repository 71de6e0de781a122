"""The stats added to the contract after its first release, on inputs worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from isoloop.results.digest import DIGEST_STATS_KEYS
from isoloop.results.metrics import STATS_KEYS, compute_stats

ADDED = (
    "duration_days",
    "cagr_pct",
    "alpha_pct",
    "beta",
    "max_drawdown_duration_days",
    "avg_drawdown_duration_days",
    "max_trade_duration_days",
    "avg_trade_duration_days",
    "kelly_criterion",
)


def bars(n: int, freq: str = "D") -> np.ndarray:
    return pd.date_range("2024-01-01", periods=n, freq=freq).as_unit("ns").to_numpy()


def trades(entry: list[int], exit_: list[float], pnl: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "size": [1.0] * len(entry),
            "entry_bar": entry,
            "exit_bar": exit_,
            "pnl": pnl,
            "commission": [0.0] * len(entry),
            "return_pct": [p / 100 for p in pnl],
        }
    )


NO_TRADES = trades([], [], [])


def test_the_added_keys_come_after_the_digested_ones() -> None:
    # Old run folders verify because the first keys, the ones digests hash, never move.
    assert STATS_KEYS[: len(DIGEST_STATS_KEYS)] == DIGEST_STATS_KEYS
    assert STATS_KEYS[len(DIGEST_STATS_KEYS) :] == ADDED


def test_durations_kelly_and_cagr_on_daily_bars() -> None:
    # Drawdowns: bars 0->3 (3 days, recovered) and 4->6 (2 days, open at the end).
    equity = np.array([100.0, 90, 80, 100, 110, 99, 104.5])
    close = np.array([10.0, 9, 8, 10, 11, 10, 12])
    s = compute_stats(equity, bars(7), trades([1, 3], [2, 5], [-20.0, 30.0]), close)
    assert s["duration_days"] == 6.0
    assert s["max_drawdown_duration_days"] == 3.0
    # The mean, 2.5 days, is rounded up to the bars' resolution (whole days), as
    # backtesting.py shows it.
    assert s["avg_drawdown_duration_days"] == 3.0
    assert s["max_trade_duration_days"] == 2.0
    assert s["avg_trade_duration_days"] == 2.0  # 1.5 rounded up
    # Kelly: win rate 1/2, average win 30 over average loss 20.
    assert s["kelly_criterion"] == pytest.approx(0.5 - 0.5 / (30 / 20), rel=1e-12)
    assert s["cagr_pct"] == pytest.approx((1.045 ** (365.25 / 6) - 1) * 100, rel=1e-12)


def test_durations_round_up_to_the_hour_on_hourly_bars() -> None:
    # Drawdowns of 3 and 2 hours: mean 2.5 hours, shown as 3 hours.
    equity = np.array([100.0, 90, 80, 100, 110, 99, 104.5])
    s = compute_stats(equity, bars(7, "h"), trades([0], [3.0], [5.0]), equity)
    assert s["duration_days"] == 6 / 24
    assert s["max_drawdown_duration_days"] == 3 / 24
    assert s["avg_drawdown_duration_days"] == 3 / 24
    assert s["max_trade_duration_days"] == s["avg_trade_duration_days"] == 3 / 24


def test_beta_and_alpha_of_a_doubly_levered_curve() -> None:
    # Equity = close²: every log return is twice the market's, so beta is 2, and
    # alpha is the return beyond twice buy & hold: 44% - 2 × 20% = 4%.
    close = np.array([10.0, 11.0, 9.0, 12.0])
    s = compute_stats(close**2, bars(4), NO_TRADES, close)
    assert s["beta"] == pytest.approx(2.0, rel=1e-12)
    assert s["return_pct"] == pytest.approx(44.0)
    assert s["buy_hold_return_pct"] == pytest.approx(20.0)
    assert s["alpha_pct"] == pytest.approx(4.0, rel=1e-9)


def test_nothing_to_measure_gives_nan_not_zero() -> None:
    flat = np.full(5, 100.0)
    s = compute_stats(flat, bars(5), NO_TRADES, np.arange(1.0, 6.0))
    for key in (
        "max_drawdown_duration_days",
        "avg_drawdown_duration_days",
        "max_trade_duration_days",
        "avg_trade_duration_days",
        "kelly_criterion",
    ):
        assert math.isnan(s[key]), key
    assert s["cagr_pct"] == 0.0
    assert s["beta"] == 0.0  # a flat curve does not move with the market


def test_kelly_needs_both_a_win_and_a_loss() -> None:
    equity = np.linspace(100.0, 120.0, 6)
    only_wins = compute_stats(equity, bars(6), trades([0, 2], [1, 3], [5.0, 5.0]), equity)
    assert math.isnan(only_wins["kelly_criterion"])


def test_a_single_bar_has_no_span_to_annualize() -> None:
    s = compute_stats(np.array([100.0]), bars(1), NO_TRADES, np.array([10.0]))
    assert s["duration_days"] == 0.0
    assert math.isnan(s["cagr_pct"])
    assert math.isnan(s["beta"])


def test_open_trades_have_no_duration() -> None:
    equity = np.full(6, 100.0)
    s = compute_stats(equity, bars(6), trades([1, 2], [4, np.nan], [1.0, 2.0]), equity)
    assert s["max_trade_duration_days"] == s["avg_trade_duration_days"] == 3.0
