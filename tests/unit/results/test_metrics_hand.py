"""compute_stats on tiny inputs whose answers are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from isoloop.results.metrics import compute_stats, stats_equal

EMPTY_TRADES = pd.DataFrame(
    {
        c: pd.Series(dtype=float)
        for c in ("size", "entry_bar", "exit_bar", "pnl", "commission", "return_pct")
    }
)


def days(n: int) -> np.ndarray:
    return pd.date_range("2024-01-01", periods=n, freq="D").as_unit("ns").to_numpy()


def test_drawdowns_exposure_and_trade_stats() -> None:
    # Peaks 100 -> 80 (20% dd, recovers at 110) -> 99 (10% dd, not recovered).
    equity = np.array([100.0, 90, 80, 100, 110, 99, 104.5])
    close = np.array([10.0, 9, 8, 10, 11, 10, 12])
    trades = pd.DataFrame(
        {
            "size": [1.0, -2.0],
            "entry_bar": [1, 3],
            "exit_bar": [2, 5],
            "pnl": [-20.0, 30.0],
            "commission": [0.5, 0.25],
            "return_pct": [-0.2, 0.1],
        }
    )
    s = compute_stats(equity, days(7), trades, close)
    assert s["equity_final"] == 104.5
    assert s["equity_peak"] == 110.0
    assert s["return_pct"] == pytest.approx(4.5)
    assert s["buy_hold_return_pct"] == pytest.approx(20.0)
    assert s["max_drawdown_pct"] == pytest.approx(-20.0)
    assert s["avg_drawdown_pct"] == pytest.approx(-15.0)  # mean of 20% and 10%
    assert s["exposure_pct"] == pytest.approx(5 / 7 * 100)  # bars 1..5
    assert s["trades"] == 2
    assert s["win_rate_pct"] == 50.0
    assert s["best_trade_pct"] == pytest.approx(10.0)
    assert s["worst_trade_pct"] == pytest.approx(-20.0)
    assert s["avg_trade_pct"] == pytest.approx((math.sqrt(0.8 * 1.1) - 1) * 100)
    assert s["profit_factor"] == pytest.approx(0.5)
    assert s["expectancy_pct"] == pytest.approx(-5.0)
    assert s["sqn"] == pytest.approx(math.sqrt(2) * 5 / np.std([-20, 30], ddof=1))
    assert s["commissions"] == 0.75


def test_annualized_return_daily_bars_252() -> None:
    # Weekday-only daily bars growing 0.1% per day: annualized = 1.001**252 - 1, no volatility.
    idx = pd.bdate_range("2024-01-01", periods=300).as_unit("ns").to_numpy()
    equity = 100 * 1.001 ** np.arange(300)
    s = compute_stats(equity, idx, EMPTY_TRADES, equity)
    assert s["return_ann_pct"] == pytest.approx((1.001**252 - 1) * 100, rel=1e-9)
    # Zero variance: backtesting.py's formula gives sqrt(~0 - ~0), i.e. 0 or NaN by rounding.
    assert math.isnan(s["volatility_ann_pct"]) or s["volatility_ann_pct"] < 1e-6
    assert math.isnan(s["calmar_ratio"])  # no drawdown
    assert math.isnan(s["avg_drawdown_pct"])
    assert s["max_drawdown_pct"] == 0.0
    assert math.isinf(s["sortino_ratio"])  # no down days


def test_open_trade_without_exit_bar_counts_to_the_end() -> None:
    trades = pd.DataFrame(
        {
            "size": [1.0],
            "entry_bar": [2],
            "exit_bar": [np.nan],
            "pnl": [1.0],
            "commission": [0.0],
            "return_pct": [0.01],
        }
    )
    equity = np.full(10, 100.0)
    s = compute_stats(equity, days(10), trades, equity)
    assert s["exposure_pct"] == pytest.approx(80.0)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="risk_free_rate"):
        compute_stats(np.ones(3), days(3), EMPTY_TRADES, np.ones(3), risk_free_rate=2)
    with pytest.raises(ValueError, match="aligned"):
        compute_stats(np.ones(3), days(4), EMPTY_TRADES, np.ones(3))


def test_stats_equal_treats_nan_as_equal() -> None:
    a = {"x": float("nan"), "y": 1.0}
    assert stats_equal(a, {"x": float("nan"), "y": 1.0 + 1e-12})
    assert not stats_equal(a, {"x": 0.0, "y": 1.0})
    assert not stats_equal(a, {"y": 1.0})


def test_volatility_of_known_daily_returns() -> None:
    # Daily returns alternate +2% / -1%: the formula's inputs are known exactly.
    idx = pd.bdate_range("2024-01-01", periods=201).as_unit("ns").to_numpy()
    rets = np.tile([0.02, -0.01], 100)
    equity = 100 * np.r_[1.0, np.cumprod(1 + rets)]
    s = compute_stats(equity, idx, EMPTY_TRADES, equity)
    g = math.sqrt(1.02 * 0.99) - 1
    var = np.var(rets, ddof=1)
    vol = math.sqrt((var + (1 + g) ** 2) ** 252 - (1 + g) ** 504) * 100
    assert s["return_ann_pct"] == pytest.approx(((1 + g) ** 252 - 1) * 100, rel=1e-9)
    assert s["volatility_ann_pct"] == pytest.approx(vol, rel=1e-9)
    assert s["sharpe_ratio"] == pytest.approx(s["return_ann_pct"] / vol, rel=1e-9)
    downside = math.sqrt(0.01**2 / 2) * math.sqrt(252)
    assert s["sortino_ratio"] == pytest.approx(((1 + g) ** 252 - 1) / downside, rel=1e-9)
