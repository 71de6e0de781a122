"""Loading market data from every source scheme gives the bars a user expects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backtesting.test import BTCUSD, EURUSD, GOOG

from isoloop.config.models import DataConfig
from isoloop.data import OHLCV_COLUMNS, fingerprint, load_frame, load_market_data
from isoloop.errors import DataError


@pytest.mark.parametrize(
    ("name", "oracle"), [("GOOG", GOOG), ("EURUSD", EURUSD), ("BTCUSD", BTCUSD)]
)
def test_sample_matches_backtesting_package_data(name: str, oracle: pd.DataFrame) -> None:
    symbol, frame = load_frame(f"sample:{name}")
    assert symbol == name
    assert list(frame.columns) == list(OHLCV_COLUMNS)
    np.testing.assert_array_equal(
        frame.index.to_numpy(), pd.DatetimeIndex(oracle.index).as_unit("ns").to_numpy()
    )
    np.testing.assert_array_equal(
        frame.to_numpy(), oracle[list(OHLCV_COLUMNS)].to_numpy(dtype=float)
    )


def test_sample_name_is_case_insensitive_and_symbol_overridable() -> None:
    symbol, frame = load_frame("sample:goog", symbol="ALPHABET")
    assert symbol == "ALPHABET"
    assert len(frame) == len(GOOG)


def test_csv_relative_to_base_dir_with_lowercase_columns_and_named_index(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    GOOG.rename(columns=str.lower).rename_axis("Timestamp").reset_index().iloc[
        :, [1, 2, 0, 3, 4, 5]
    ].to_csv(tmp_path / "data" / "goog.csv", index=False)
    symbol, frame = load_frame("csv:data/goog.csv", base_dir=tmp_path)
    assert symbol == "goog"
    assert list(frame.columns) == list(OHLCV_COLUMNS)
    np.testing.assert_array_equal(frame.to_numpy(), GOOG[list(OHLCV_COLUMNS)].to_numpy(dtype=float))
    assert fingerprint(frame) == fingerprint(load_frame("sample:GOOG")[1])


def test_csv_upper_case_columns_first_column_index(tmp_path: Path) -> None:
    GOOG.head(50).rename(columns=str.upper).to_csv(tmp_path / "g.csv")
    _, frame = load_frame(f"csv:{tmp_path / 'g.csv'}")
    assert len(frame) == 50
    assert list(frame.columns) == list(OHLCV_COLUMNS)


def test_parquet_roundtrip(tmp_path: Path) -> None:
    EURUSD.to_parquet(tmp_path / "eur.parquet")
    symbol, frame = load_frame("parquet:eur.parquet", base_dir=tmp_path)
    assert symbol == "eur"
    assert fingerprint(frame) == fingerprint(load_frame("sample:EURUSD")[1])


def test_parquet_with_date_column(tmp_path: Path) -> None:
    EURUSD.head(30).rename_axis("date").reset_index().to_parquet(tmp_path / "e.parquet")
    _, frame = load_frame(f"parquet:{tmp_path / 'e.parquet'}")
    assert len(frame) == 30
    assert isinstance(frame.index, pd.DatetimeIndex)


def test_window_is_inclusive_and_a_bare_end_date_covers_the_whole_day() -> None:
    _, full = load_frame("sample:EURUSD")
    day = dt.date(2017, 4, 20)
    _, frame = load_frame("sample:EURUSD", start=day, end=day)
    expected = full[full.index.normalize() == pd.Timestamp(day)]
    assert len(frame) == len(expected) > 1
    _, exact = load_frame("sample:GOOG", start="2005-01-03", end="2005-01-07")
    assert exact.index[0] == pd.Timestamp("2005-01-03")
    assert exact.index[-1] == pd.Timestamp("2005-01-07")


def test_empty_window_is_an_error() -> None:
    with pytest.raises(DataError, match=r"sample:GOOG: no bars between .*data\.start"):
        load_frame("sample:GOOG", start="1990-01-01", end="1990-12-31")


def test_synthetic_is_deterministic_and_valid() -> None:
    src = "synthetic:gbm?bars=5000&seed=42&vol=0.02"
    _, a = load_frame(src)
    _, b = load_frame(src)
    _, c = load_frame("synthetic:gbm?bars=5000&seed=43&vol=0.02")
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)
    assert len(a) == 5000
    assert (a.High >= np.maximum(a.Open, a.Close)).all()
    assert (a.Low <= np.minimum(a.Open, a.Close)).all()
    assert (a.Volume >= 0).all()
    assert (a.index[1:] - a.index[:-1] == pd.Timedelta("1min")).all()


def test_synthetic_options() -> None:
    _, f = load_frame("synthetic:gbm?bars=10&seed=1&start=2021-03-01&freq=1h&s0=50")
    assert f.index[0] == pd.Timestamp("2021-03-01")
    assert f.index[1] - f.index[0] == pd.Timedelta("1h")
    assert f.Open.iloc[0] == 50.0


def test_synthetic_statistics_follow_drift_and_vol() -> None:
    # Independent check of the GBM parameters: log returns have mean drift - vol^2/2 and sd vol.
    _, f = load_frame("synthetic:gbm?bars=200000&seed=9&drift=0.0001&vol=0.002")
    r = np.diff(np.log(np.r_[f.Open.iloc[0], f.Close.to_numpy()]))
    assert abs(r.std() - 0.002) < 0.002 * 0.01
    assert abs(r.mean() - (0.0001 - 0.002**2 / 2)) < 4 * 0.002 / np.sqrt(len(r))


def test_load_market_data_read_only_sorted_with_fingerprints() -> None:
    cfgs = [
        DataConfig(source="synthetic:gbm?bars=100&seed=1", symbol="ZZZ"),
        DataConfig(source="sample:GOOG"),
    ]
    md, prints = load_market_data(cfgs, None)
    assert list(md) == ["GOOG", "ZZZ"]
    assert list(prints) == ["GOOG", "ZZZ"]
    assert prints["GOOG"] == fingerprint(load_frame("sample:GOOG")[1])
    with pytest.raises(ValueError, match="read-only"):
        md["GOOG"].close[0] = 1.0


def test_load_market_data_duplicate_symbol() -> None:
    cfgs = [DataConfig(source="sample:GOOG"), DataConfig(source="sample:goog")]
    with pytest.raises(
        DataError, match=r"symbol 'GOOG' is already loaded from 'sample:GOOG'.*different `symbol:`"
    ):
        load_market_data(cfgs, None)
