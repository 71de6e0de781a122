"""Bad data gets one clear line naming the file, the row and the rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from backtesting.test import GOOG

from isoloop.data import load_frame
from isoloop.errors import DataError

HEADER = "Date,Open,High,Low,Close,Volume\n"
GOOD = [
    "2020-01-01,10,11,9,10.5,100",
    "2020-01-02,10.5,12,10,11,200",
    "2020-01-03,11,11.5,10.5,11.2,300",
    "2020-01-06,11.2,11.8,11,11.5,400",
]


def write(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(DataError) as info:
        load_frame(f"csv:{path.name}", base_dir=path.parent)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def with_row(index: int, row: str) -> list[str]:
    rows = list(GOOD)
    rows[index] = row
    return rows


def test_good_file_loads(tmp_path: Path) -> None:
    _, frame = load_frame(f"csv:{write(tmp_path, GOOD)}")
    assert len(frame) == 4


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            with_row(2, "2020-01-03,11,10,10.5,11.2,300"),
            r"line 4 \(2020-01-03.*High 10.0 < Low 10.5",
        ),
        (
            with_row(1, "2020-01-02,10.5,10.8,10,11,200"),
            r"line 3 \(2020-01-02.*High 10.8 < max\(Open 10.5, Close 11.0\)",
        ),
        (
            with_row(3, "2020-01-06,11.2,11.8,11.3,11.5,400"),
            r"line 5 \(2020-01-06.*Low 11.3 > min\(Open 11.2, Close 11.5\)",
        ),
        (
            with_row(0, "2020-01-01,10,11,9,10.5,-1"),
            r"line 2 \(2020-01-01.*Volume -1.0 is negative",
        ),
        (with_row(1, "2020-01-02,10.5,12,10,,200"), r"line 3 \(2020-01-02.*Close is nan.*finite"),
        (with_row(1, "2020-01-02,10.5,inf,10,11,200"), r"line 3 \(2020-01-02.*High is inf"),
        (
            with_row(2, "2020-01-02,11,11.5,10.5,11.2,300"),
            r"line 4 \(2020-01-02.*duplicate timestamp",
        ),
        (with_row(2, "2019-12-31,11,11.5,10.5,11.2,300"), r"line 4 \(2019-12-31.*sorted ascending"),
        (
            with_row(2, "not-a-date,11,11.5,10.5,11.2,300"),
            r"line 4: the timestamp is not a date",
        ),
        (
            with_row(1, "2020-01-02,10.5,12,abc,11,200"),
            r"line 3 \(2020-01-02.*the Low value is not a number",
        ),
    ],
)
def test_rule_violations_name_line_timestamp_and_rule(
    tmp_path: Path, rows: list[str], expected: str
) -> None:
    message = load_error(write(tmp_path, rows))
    assert message.startswith("csv:prices.csv (")
    assert __import__("re").search(expected, message), message


def test_missing_columns_are_named(tmp_path: Path) -> None:
    message = load_error(
        write(tmp_path, [r.rsplit(",", 2)[0] for r in GOOD], "Date,Open,High,Low\n")
    )
    assert "missing column(s) Close, Volume" in message
    assert "have: Open, High, Low" in message


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("")
    assert "empty" in load_error(path)
    path.write_text(HEADER)
    assert "no data rows" in load_error(path)


def test_missing_file_names_resolved_path(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match=r"csv:nope.csv: file not found: .*nope.csv .*config file's folder"
    ):
        load_frame("csv:nope.csv", base_dir=tmp_path)
    with pytest.raises(DataError, match=r"file not found"):
        load_frame("parquet:nope.parquet", base_dir=tmp_path)


def test_unknown_scheme_lists_known() -> None:
    with pytest.raises(DataError) as info:
        load_frame("ftp://x")
    for known in ("sample:", "csv:", "parquet:", "synthetic:"):
        assert known in str(info.value)


def test_unknown_sample_lists_names() -> None:
    with pytest.raises(
        DataError, match=r"unknown sample 'AAPL'.*sample:BTCUSD, sample:EURUSD, sample:GOOG"
    ):
        load_frame("sample:AAPL")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("synthetic:gbm?bars=10", "missing seed"),
        ("synthetic:gbm?bars=x&seed=1", "bars='x' is not an integer"),
        ("synthetic:gbm?bars=0&seed=1", "bars=0 must be >= 1"),
        ("synthetic:gbm?bars=10&seed=1&colour=red", "unknown key(s) colour"),
        ("synthetic:brownian?bars=10&seed=1", "unknown synthetic generator 'brownian'"),
        ("synthetic:gbm?bars=10&seed=1&freq=fortnightly", "bad start"),
        ("synthetic:gbm?bars=10&seed=1&vol=-1", "vol='-1' is out of range"),
    ],
)
def test_bad_synthetic_query(source: str, expected: str) -> None:
    with pytest.raises(DataError) as info:
        load_frame(source)
    assert expected in str(info.value)
    assert "synthetic:gbm?bars=N&seed=S" in str(info.value)


def test_parquet_row_numbers(tmp_path: Path) -> None:
    bad = GOOG.head(20).copy()
    bad.iloc[7, bad.columns.get_loc("High")] = bad.Low.iloc[7] - 1
    bad.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(
        DataError, match=r"parquet:bad.parquet \(.*\): row 8 \(" + str(bad.index[7].date())
    ):
        load_frame("parquet:bad.parquet", base_dir=tmp_path)


def test_nonfinite_volume_rejected(tmp_path: Path) -> None:
    frame = GOOG.head(10).copy()
    frame["Volume"] = frame["Volume"].astype(float)
    frame.iloc[3, frame.columns.get_loc("Volume")] = np.nan
    frame.to_csv(tmp_path / "v.csv")
    with pytest.raises(DataError, match=r"line 5 .*Volume is nan"):
        load_frame(f"csv:{tmp_path / 'v.csv'}")
