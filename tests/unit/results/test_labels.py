"""backtesting_stats/backtesting_trades: isoloop's results under backtesting.py's labels and units.

Equality with backtesting.py itself, on a real GOOG run, is checked in
tests/integration/test_metrics_oracle.py; these pin the conversions.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from isoloop.results import (
    BACKTESTING_STATS_LABELS,
    backtesting_stats,
    backtesting_trades,
    compute_stats,
)

INDEX = pd.date_range("2024-01-01", periods=7, freq="h")
EQUITY = pd.Series([100.0, 90, 80, 100, 110, 99, 104.5], index=INDEX, name="equity")
TRADES = pd.DataFrame(
    {
        "symbol": ["X", "X"],
        "venue": ["sim", "sim"],
        "size": [2.0, -1.0],
        "entry_bar": [1, 3],
        "exit_bar": [2, 5],
        "entry_price": [9.0, 10.0],
        "exit_price": [8.0, 10.0],
        "entry_time": INDEX[[1, 3]],
        "exit_time": INDEX[[2, 5]],
        "pnl": [-2.0, 0.0],
        "commission": [0.0, 0.0],
        "return_pct": [-1 / 9, 0.0],
    }
)


def stats(commission: float = 0.0) -> dict[str, float]:
    trades = TRADES.assign(commission=[commission, 0.0])
    return compute_stats(EQUITY.to_numpy(), INDEX.to_numpy(), trades, EQUITY.to_numpy())


def test_labels_in_backtesting_py_order_with_its_units() -> None:
    view = backtesting_stats(stats(), equity=EQUITY)
    expected = [label for label, _ in BACKTESTING_STATS_LABELS if label != "Commissions [$]"]
    assert list(view.index) == [*expected, "_equity_curve"]
    assert view["Start"] == pd.Timestamp("2024-01-01 00:00")
    assert view["End"] == pd.Timestamp("2024-01-01 06:00")
    assert view["Duration"] == pd.Timedelta(hours=6)
    # Days in the stats, Timedeltas here: 3 h and 2 h drawdowns, the mean rounded up.
    assert view["Max. Drawdown Duration"] == pd.Timedelta(hours=3)
    assert view["Avg. Drawdown Duration"] == pd.Timedelta(hours=3)
    assert view["Max. Trade Duration"] == pd.Timedelta(hours=2)
    assert view["# Trades"] == 2 and isinstance(view["# Trades"], int)
    assert view["Return [%]"] == stats()["return_pct"]  # percent stays percent
    assert view["Max. Drawdown [%]"] < 0


def test_commissions_shown_only_when_charged() -> None:
    assert "Commissions [$]" not in backtesting_stats(stats()).index
    assert backtesting_stats(stats(commission=0.75))["Commissions [$]"] == 0.75


def test_start_and_end_need_timestamps() -> None:
    plain = backtesting_stats(stats())
    assert "Start" not in plain.index and "End" not in plain.index
    assert plain["Duration"] == pd.Timedelta(hours=6)  # from duration_days
    dated = backtesting_stats(stats() | {"start": "2024-01-01T00:00:00", "end": "2024-01-02"})
    assert dated["Start"] == pd.Timestamp("2024-01-01")
    assert dated["Duration"] == pd.Timedelta(days=1)


def test_a_duration_that_cannot_be_measured_is_nat() -> None:
    flat = compute_stats(np.full(3, 1.0), INDEX[:3].to_numpy(), TRADES.iloc[:0], np.ones(3))
    view = backtesting_stats(flat)
    assert view["Max. Drawdown Duration"] is pd.NaT
    assert view["Avg. Trade Duration"] is pd.NaT
    assert math.isnan(view["Kelly Criterion"])


def test_trades_under_backtesting_py_column_names() -> None:
    table = backtesting_trades(TRADES)
    assert list(table.columns) == [
        "Size",
        "EntryBar",
        "ExitBar",
        "EntryPrice",
        "ExitPrice",
        "SL",
        "TP",
        "PnL",
        "Commission",
        "ReturnPct",
        "EntryTime",
        "ExitTime",
        "Duration",
        "Tag",
    ]
    assert table["Size"].dtype == np.int64 and list(table["Size"]) == [2, -1]
    assert list(table["Duration"]) == [pd.Timedelta(hours=1), pd.Timedelta(hours=2)]
    assert table["SL"].isna().all() and table["TP"].isna().all()
    assert list(table["Tag"]) == [None, None]
    assert list(table["PnL"]) == [-2.0, 0.0]


def test_trades_keep_fractional_sizes_and_the_engine_brackets() -> None:
    tagged = TRADES.assign(size=[0.5, -1.0], tag=["breakout", None], sl=[8.5, None], tp=[None, 9.0])
    table = backtesting_trades(tagged)
    assert table["Size"].dtype == np.float64
    assert list(table["Tag"]) == ["breakout", None]
    assert table["SL"].iloc[0] == 8.5 and math.isnan(table["SL"].iloc[1])
    assert math.isnan(table["TP"].iloc[0]) and table["TP"].iloc[1] == 9.0


def test_the_view_carries_trades_and_curve_like_backtesting_py() -> None:
    view = backtesting_stats(stats(), TRADES, equity=EQUITY)
    pd.testing.assert_frame_equal(view["_trades"], backtesting_trades(TRADES))
    curve = view["_equity_curve"]
    assert list(curve.columns) == ["Equity", "DrawdownPct", "DrawdownDuration"]
    assert curve["DrawdownPct"].iloc[2] == pytest.approx(
        0.2
    )  # a fraction, as backtesting.py stores it
    assert curve["DrawdownDuration"].iloc[3] == pd.Timedelta(hours=3)
    assert curve["DrawdownDuration"].iloc[6] == pd.Timedelta(hours=2)
    assert curve["DrawdownDuration"].isna().sum() == 5


def test_the_notebook_stats_series_and_equity_frame_are_accepted() -> None:
    # The notebook's `.stats` is a float Series (trades 2.0) and `.equity` a frame.
    from_series = backtesting_stats(
        pd.Series(stats(), dtype="float64"), equity=EQUITY.to_frame("equity")
    )
    from_mapping = backtesting_stats(stats(), equity=EQUITY)
    plain = [label for label in from_mapping.index if not label.startswith("_")]
    assert list(from_series.index) == list(from_mapping.index)
    for label in plain:
        got, want = from_series[label], from_mapping[label]
        assert got == want or (pd.isna(got) and pd.isna(want)), label
    assert isinstance(from_series["# Trades"], int)
    pd.testing.assert_frame_equal(from_series["_equity_curve"], from_mapping["_equity_curve"])
