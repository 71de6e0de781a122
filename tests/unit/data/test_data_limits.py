"""Data caps, price bounds, time zones and quiet reads: one `DataError` line, no file contents."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from isoloop.data import load_frame, parse_gbm_query
from isoloop.errors import DataError, LimitExceeded

HEADER = "Date,Open,High,Low,Close,Volume\n"
SECRET = "SECRET_TOKEN=sk-live-55aa"


def rows(n: int) -> list[str]:
    return [f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00:00,10,11,9,10.5,100" for i in range(n)]


def write(tmp_path: Path, lines: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "bars.csv"
    path.write_text(header + "\n".join(lines) + "\n")
    return path


def load(path: Path) -> pd.DataFrame:
    return load_frame(f"csv:{path.name}", base_dir=path.parent)[1]


@pytest.fixture
def no_pandas_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caps must act before pandas reads a byte (that is where the memory goes)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pandas read the file before the caps were checked")

    monkeypatch.setattr(pd, "read_csv", refuse)


@pytest.mark.usefixtures("no_pandas_read")
def test_a_long_line_is_refused_with_its_line_number(tmp_path: Path) -> None:
    path = write(tmp_path, [*rows(3), "9" * 70_000, *rows(2)])
    with pytest.raises(LimitExceeded, match=r"bars.csv\): line 5: bytes in one CSV line is 70_000"):
        load(path)


@pytest.mark.usefixtures("no_pandas_read")
def test_a_file_without_newlines_is_refused_while_scanning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bars.csv"
    path.write_bytes(b"x" * 3_000_000)  # several 1 MiB chunks, no line end
    with pytest.raises(LimitExceeded, match="line 1: bytes in one CSV line is over the limit"):
        load(path)


@pytest.mark.usefixtures("no_pandas_read")
def test_rows_and_bytes_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, rows(50))
    monkeypatch.setenv("ISOLOOP_MAX_BARS", "40")
    with pytest.raises(LimitExceeded, match="ISOLOOP_MAX_BARS"):
        load(path)
    monkeypatch.delenv("ISOLOOP_MAX_BARS")
    monkeypatch.setenv("ISOLOOP_MAX_DATA_BYTES", "1000")
    with pytest.raises(LimitExceeded, match=r"data file size in bytes is 1_\d{3}.*DATA_BYTES"):
        load(path)


def test_within_the_caps_the_file_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISOLOOP_MAX_BARS", "50")
    assert len(load(write(tmp_path, rows(50)))) == 50


def test_parquet_rows_are_capped_from_its_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = load(write(tmp_path, rows(30)))
    frame.to_parquet(tmp_path / "bars.parquet")
    monkeypatch.setenv("ISOLOOP_MAX_BARS", "20")
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: pytest.fail("read before the cap"))
    with pytest.raises(LimitExceeded, match=r"bars\.parquet.*is 30, over the limit of 20"):
        load_frame("parquet:bars.parquet", base_dir=tmp_path)


def test_a_file_that_is_not_parquet_is_named_not_quoted(tmp_path: Path) -> None:
    (tmp_path / "x.parquet").write_text(SECRET + "\n")
    with pytest.raises(DataError, match="is not a readable parquet file") as info:
        load_frame("parquet:x.parquet", base_dir=tmp_path)
    assert SECRET not in str(info.value)


def test_synthetic_bars_are_capped_before_generation() -> None:
    with pytest.raises(LimitExceeded, match=r"bars \(rows\) per data source is 1_000_000_000_000"):
        parse_gbm_query("synthetic:gbm?bars=1000000000000&seed=1", "gbm?bars=1000000000000&seed=1")
    with pytest.raises(DataError, match="after the year 2262"):
        load_frame("synthetic:gbm?bars=4000000&seed=1&freq=1D")
    with pytest.raises(LimitExceeded, match=r"synthetic:gbm.*bars: digits in one integer"):
        load_frame("synthetic:gbm?bars=" + "9" * 5000 + "&seed=1")


@pytest.mark.parametrize(
    ("line", "header"),
    [
        (f"{SECRET},10,11,9,10.5,100", HEADER),
        ("2024-01-05,10,11,9," + SECRET + ",100", HEADER),
        ("2024-01-05,1", f"Date,{SECRET}\n"),
        (f"{SECRET},1,2,3,4,5,6,7,8", HEADER),
    ],
    ids=["timestamp", "value", "header", "ragged"],
)
def test_errors_never_quote_the_file(tmp_path: Path, line: str, header: str) -> None:
    with pytest.raises(DataError) as info:
        load(write(tmp_path, [*rows(3), line], header))
    message = str(info.value)
    assert SECRET not in message and "sk-live" not in message
    assert "bars.csv" in message and "\n" not in message


def test_missing_columns_list_only_known_names(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load(write(tmp_path, ["2024-01-01,1,2,3"], header=f"Date,Open,{SECRET},high\n"))
    message = str(info.value)
    assert "missing column(s) Low, Close, Volume (have: Open, high, 1 other column(s))" in (message)


def test_reads_print_no_pandas_or_numpy_warnings(tmp_path: Path) -> None:
    # Day-first dates make pandas warn "Could not infer format" on stderr.
    path = write(tmp_path, ["13/01/2024,10,11,9,10.5,100", "14/01/2024 10:00,10,11,9,10.5,1"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = load(path)
    assert [str(w.message) for w in caught] == []
    assert list(frame.index) == [pd.Timestamp("2024-01-13"), pd.Timestamp("2024-01-14 10:00")]


def test_differing_utc_offsets_are_converted_to_utc(tmp_path: Path) -> None:
    # Daylight saving: the same zone, two offsets. Legal, and stored as UTC.
    frame = load(
        write(
            tmp_path, ["2024-03-29 10:00+01:00,1,2,0.5,1.5,1", "2024-04-02 10:00+02:00,1,2,1,1,1"]
        )
    )
    assert list(frame.index) == [pd.Timestamp("2024-03-29 09:00"), pd.Timestamp("2024-04-02 08:00")]


def test_offsets_on_some_rows_only_are_refused_naming_the_row(tmp_path: Path) -> None:
    path = write(tmp_path, ["2024-01-01 10:00+00:00,1,2,0.5,1.5,1", "2024-01-02 10:00,1,2,1,1,1"])
    with pytest.raises(DataError, match="line 3: the timestamp has no UTC offset but the first"):
        load(path)


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("0,11,0,10.5,100", "Open is 0.0 (rule: prices must be positive"),
        ("10,11,-1,10.5,100", "Low is -1.0 (rule: prices must be positive"),
        ("10,2e12,9,10.5,100", "High is 2000000000000.0 (rule: prices must be at most 1e+12"),
        ("1e300,1e300,1e300,1e300,100", "Open is 1e+300"),
        ("10,11,9,10.5,1e19", "Volume is 1e+19 (rule: volume must be at most 1e+18"),
        ("10,11,1e-150,10.5,100", "Low is 1e-150 (rule: prices must be at least 1e-100"),
    ],
)
def test_prices_must_be_positive_and_in_float_range(
    tmp_path: Path, row: str, fragment: str
) -> None:
    with pytest.raises(DataError, match="line 3") as info:
        load(write(tmp_path, ["2024-01-01,10,11,9,10.5,100", f"2024-01-02,{row}"]))
    assert fragment in str(info.value)


def test_small_positive_prices_are_accepted(tmp_path: Path) -> None:
    frame = load(write(tmp_path, ["2024-01-01,1e-6,2e-6,5e-7,1.5e-6,1e12"]))
    assert np.isclose(frame["Close"].iloc[0], 1.5e-6)
    # A long random walk drifts this low (the sweep benchmark's 2M-bar GBM does).
    frame = load(write(tmp_path, ["2024-01-01,1e-13,2e-13,5e-14,1.5e-13,10"]))
    assert np.isclose(frame["Low"].iloc[0], 5e-14)


def test_a_device_or_folder_is_not_read(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="/dev/zero is not a regular file"):
        load_frame("csv:/dev/zero")
    with pytest.raises(DataError, match="is not a regular file"):
        load_frame(f"csv:{tmp_path}")


def test_an_unreadable_file_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root here, where chmod 0 does not stop a read: refuse the open instead.
    path = write(tmp_path, rows(3))

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(DataError, match=r"bars\.csv\): cannot be read \(Permission denied\)"):
        load(path)


def test_an_unusable_path_or_sample_name_is_one_short_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"the path cannot be used \(File name too long\)") as info:
        load_frame("csv:" + "a" * 5000, base_dir=tmp_path)
    assert len(str(info.value)) < 300
    with pytest.raises(DataError, match="unknown sample") as info:
        load_frame("sample:" + "b" * 5000)
    assert len(str(info.value)) < 300
