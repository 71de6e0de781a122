"""The published trades table carries each trade's duration, computed once in results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from isoloop import run_backtest
from isoloop.results.trades import trades_table

GOOG_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "goog_sma.yaml"


def engine_trades(**extra: list[object]) -> pd.DataFrame:
    times = pd.to_datetime(["2024-01-01 09:00", "2024-01-03 15:30", "2024-01-04 00:00"])
    return pd.DataFrame(
        {
            "symbol": ["X", "X", "X"],
            "size": [2.0, -1.0, 3.0],
            "entry_bar": [0, 5, 9],
            "exit_bar": [5, 9, 12],
            "entry_time": times,
            "exit_time": [times[1], times[2], pd.Timestamp("2024-01-10 12:00")],
            "pnl": [1.0, -2.0, 3.0],
            **extra,
        }
    )


def test_duration_is_exit_minus_entry_right_after_exit_time() -> None:
    table = trades_table(engine_trades())
    columns = list(table.columns)
    assert columns[columns.index("exit_time") + 1] == "duration"
    assert list(table["duration"]) == [
        pd.Timedelta(days=2, hours=6, minutes=30),
        pd.Timedelta(hours=8, minutes=30),
        pd.Timedelta(days=6, hours=12),
    ]


@pytest.mark.parametrize("with_brackets", [False, True])
def test_tag_sl_tp_columns_are_kept_when_present(with_brackets: bool) -> None:
    extra: dict[str, list[object]] = (
        {"tag": ["a", None, "c"], "sl": [90.0, np.nan, 80.0], "tp": [np.nan, 5.0, 120.0]}
        if with_brackets
        else {}
    )
    source = engine_trades(**extra)
    table = trades_table(source)
    assert list(table.columns) == [*source.columns[:6], "duration", *source.columns[6:]]
    for column in source.columns:
        pd.testing.assert_series_equal(table[column], source[column])


def test_leaves_its_input_alone_and_is_idempotent() -> None:
    source = engine_trades()
    once = trades_table(source)
    assert "duration" not in source.columns
    pd.testing.assert_frame_equal(trades_table(once), once)


def test_a_trade_without_exit_time_has_no_duration_and_empty_tables_get_the_column() -> None:
    source = engine_trades()
    source.loc[2, "exit_time"] = pd.NaT
    assert pd.isna(trades_table(source)["duration"].iloc[2])
    empty = trades_table(source.iloc[:0])
    assert "duration" in empty.columns and len(empty) == 0


def test_a_run_folder_publishes_the_duration_of_every_trade(tmp_path: Path) -> None:
    result = run_backtest(GOOG_CONFIG, out=tmp_path, report=False)
    folder = next(tmp_path.iterdir())
    csv = pd.read_csv(folder / "trades.csv", parse_dates=["entry_time", "exit_time"])
    parquet = pd.read_parquet(folder / "trades.parquet")
    assert len(csv) == len(parquet) == len(result.trades) == 66
    spans = pd.to_timedelta(csv["duration"])
    assert (spans == csv["exit_time"] - csv["entry_time"]).all()
    assert (parquet["duration"] == parquet["exit_time"] - parquet["entry_time"]).all()
    assert spans.max() == pd.Timedelta(days=183)  # backtesting.py's "Max. Trade Duration"
