"""The cold-load fast paths give what the code before them gave, value for value.

`_scan_lines` (an `rfind` walk for long lines instead of every line's length),
`_to_datetime` (Arrow's cast for plain ISO 8601 strings instead of `pd.to_datetime`),
NumPy number columns passed through without `pd.to_numeric`, and the cache key's
SHA-256. Each is checked against a reference written here: the previous
implementation (copied, so a later edit of the module cannot change what "before"
means) or a plain `split`.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import tempfile
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isoloop.config.limits import check_limit, exceeded, limit_value
from isoloop.data import load_frame
from isoloop.data import validation as val
from isoloop.data.cache import _file_stamp, data_key
from isoloop.data.sources import _scan_lines
from isoloop.data.validation import Origin, normalize_frame
from isoloop.errors import DataError, LimitExceeded

ORIGIN = Origin("csv:x.csv (x.csv)", first_line=2, unit="line")
MIB = 1 << 20


# --- _scan_lines -----------------------------------------------------------------------


def old_scan(path: Path, origin: Origin, chunk_bytes: int = MIB) -> None:
    """`_scan_lines` before the fast path (a NumPy pass over every byte), chunk size a parameter."""
    check_limit("data_bytes", path.stat().st_size, origin.name)
    max_line = limit_value("csv_line_bytes")
    max_rows = limit_value("bars")
    lines = 0
    current = 0
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_bytes):
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if len(ends) == 0:
                current += len(chunk)
                lengths = np.empty(0, dtype=np.int64)
            else:
                lengths = np.diff(ends, prepend=-1) - 1
                lengths[0] += current
                current = len(chunk) - int(ends[-1]) - 1
            long = np.flatnonzero(lengths > max_line)
            if len(long):
                where = f"{origin.name}: line {lines + int(long[0]) + 1}"
                raise exceeded("csv_line_bytes", where, f"{int(lengths[long[0]]):_}", max_line)
            lines += len(ends)
            if current > max_line:
                where = f"{origin.name}: line {lines + 1}"
                raise exceeded("csv_line_bytes", where, None, max_line)
            if lines - 1 > max_rows:
                raise exceeded("bars", origin.name, None, max_rows)


def split_reference(data: bytes, origin: Origin) -> str | None:
    """The scan's verdict on a file read in one chunk, from `bytes.split`."""
    max_line, max_rows = limit_value("csv_line_bytes"), limit_value("bars")
    *complete, tail = data.split(b"\n")
    for number, line in enumerate(complete, 1):
        if len(line) > max_line:
            where = f"{origin.name}: line {number}"
            return str(exceeded("csv_line_bytes", where, f"{len(line):_}", max_line))
    if len(tail) > max_line:
        where = f"{origin.name}: line {len(complete) + 1}"
        return str(exceeded("csv_line_bytes", where, None, max_line))
    if len(complete) - 1 > max_rows:
        return str(exceeded("bars", origin.name, None, max_rows))
    return None


def verdict(scan: Callable[[], None]) -> str | None:
    try:
        scan()
    except LimitExceeded as exc:
        return str(exc)
    return None


def both(path: Path, chunk_bytes: int = MIB) -> tuple[str | None, str | None]:
    new = verdict(lambda: _scan_lines(path, ORIGIN, chunk_bytes=chunk_bytes))
    old = verdict(lambda: old_scan(path, ORIGIN, chunk_bytes))
    return new, old


@pytest.mark.parametrize(
    ("data", "limit", "expected"),
    [
        (b"", 4, None),  # an empty file
        (b"\n", 4, None),
        (b"abcd\n", 4, None),  # exactly at the limit
        (b"abcd", 4, None),  # at the limit, no line end
        (b"abcde\n", 4, "line 1: bytes in one CSV line is 5, over"),
        (b"abcde", 4, "line 1: bytes in one CSV line is over"),  # no trailing newline
        (b"ab\nabc\r\n", 4, None),  # CR counts: "abc\r" is 4 bytes
        (b"ab\nabcd\r\nx\n", 4, "line 2: bytes in one CSV line is 5, over"),
        (b"ab\r\n\r\n\n\nabcdef", 4, "line 5: bytes in one CSV line is over"),
        (b"abcd\nabcd\nabcde\nabcdefgh\n", 4, "line 3: bytes in one CSV line is 5, over"),
    ],
)
def test_named_cases_match_split_and_the_old_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, limit: int, expected: str | None
) -> None:
    monkeypatch.setenv("ISOLOOP_MAX_CSV_LINE_BYTES", str(limit))
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    new, old = both(path)
    assert new == old == split_reference(data, ORIGIN)
    if expected is None:
        assert new is None
    else:
        assert new is not None and expected in new
    for chunk in (1, 2, 3, 5, 7):  # chunk boundaries everywhere, drawn as the old scan drew them
        new, old = both(path, chunk)
        assert new == old


def test_row_cap_matches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"h\n" + b"1\n" * 10)  # a header and 10 rows
    monkeypatch.setenv("ISOLOOP_MAX_BARS", "10")
    assert both(path) == (None, None)
    monkeypatch.setenv("ISOLOOP_MAX_BARS", "9")
    new, old = both(path)
    assert new == old and new is not None and "ISOLOOP_MAX_BARS" in new


def _lines(count: int, width: int) -> bytes:
    return (b"x" * (width - 1) + b"\n") * count


@pytest.mark.parametrize(
    "build",
    [
        # a 150-byte line across the first 1 MiB boundary (limit 100): its size is known
        lambda: _lines(MIB // 50 - 1, 50) + b"y" * 149 + b"\n" + _lines(40_000, 50),
        # a line that fills the rest of a chunk and ends in the next: "is over" or its size
        lambda: _lines(10, 50) + b"y" * (MIB + 10) + b"\n" + _lines(10, 50),
        # exactly at the limit on both sides of the boundary
        lambda: _lines(MIB // 100 - 1, 100) + b"z" * 150 + _lines(30_000, 100),
        # a long line a few lines after a boundary, a long line last without a line end
        lambda: _lines(30_000, 50) + b"q" * 101 + b"\n",
        lambda: _lines(30_000, 50) + b"q" * 101,
        lambda: _lines(30_000, 50) + b"q" * 100,
        lambda: b"x" * (3 * MIB),  # no line end at all, several chunks
        lambda: b"\r\n" * (MIB + 3) + b"w" * 101,
    ],
)
def test_chunk_boundaries_at_1_mib_match_the_old_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build: Callable[[], bytes]
) -> None:
    monkeypatch.setenv("ISOLOOP_MAX_CSV_LINE_BYTES", "100")
    monkeypatch.setenv("ISOLOOP_MAX_BARS", "10000000")
    path = tmp_path / "x.csv"
    path.write_bytes(build())
    new, old = both(path)
    assert new == old


def test_default_limits_on_a_large_clean_file_and_a_row_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(_lines(120_000, 30))  # 3.6 MB, several chunks
    assert both(path) == (None, None)
    monkeypatch.setenv("ISOLOOP_MAX_BARS", "50000")  # exceeded after the second chunk
    new, old = both(path)
    assert new == old and new is not None and "ISOLOOP_MAX_BARS" in new
    # The row cap is passed two chunks before a long line: the cap is what is reported.
    path.write_bytes(_lines(70_000, 30) + b"v" * 70_000 + b"\n")
    new, old = both(path)
    assert new == old and new is not None and "ISOLOOP_MAX_BARS" in new


_PIECES = st.sampled_from([b"\n", b"\r\n", b"\r", b"x", b"xyz", b"x" * 7, b",", b""])


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    data=st.binary(max_size=120) | st.lists(_PIECES, max_size=60).map(b"".join),
    limit=st.integers(1, 12),
    rows=st.integers(1, 25),
    chunk=st.integers(1, 40),
)
def test_random_bytes_match_split_and_the_old_scan(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, limit: int, rows: int, chunk: int
) -> None:
    path = tmp_path_factory.mktemp("scan") / "x.csv"
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ISOLOOP_MAX_CSV_LINE_BYTES", str(limit))
        mp.setenv("ISOLOOP_MAX_BARS", str(rows))
        new, old = both(path)
        assert new == old == split_reference(data, ORIGIN)
        new, old = both(path, chunk)
        assert new == old


# --- _to_datetime ----------------------------------------------------------------------


def old_to_datetime(values: pd.Index | pd.Series, origin: Origin) -> pd.DatetimeIndex:
    """`_to_datetime` before the fast path: the same function with `_plain_iso` declining
    every column, so `pd.to_datetime` and the mixed-format retry decide, as they did."""
    with mock.patch.object(val, "_plain_iso", lambda values: None):
        return val._to_datetime(values, origin)


Outcome = tuple[str, object]


def outcome(convert: Callable[[], pd.DatetimeIndex]) -> Outcome:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as `load_frame` reads: every rule is an error
        try:
            index = convert()
        except Exception as exc:  # the same error, whatever it is
            return ("error", (type(exc), str(exc)))
    return ("index", index)


def assert_same(values: pd.Index | pd.Series, *, clock: bool = False) -> pd.DatetimeIndex | None:
    """New and old conversion agree; returns the fast path's result (None: not taken).

    `clock`: the values say "now" or "today", which pandas reads as the time of the
    call, so the two results may differ by the time between the calls.
    """
    kind_new, new = outcome(lambda: val._to_datetime(values, ORIGIN))
    kind_old, old = outcome(lambda: old_to_datetime(values, ORIGIN))
    assert kind_new == kind_old, (new, old)
    if kind_new == "index":
        assert isinstance(new, pd.DatetimeIndex) and isinstance(old, pd.DatetimeIndex)
        if clock:
            assert new.name == old.name and len(new) == len(old)
            assert bool(np.all(abs(new - old) < pd.Timedelta(seconds=5)))
            new = old
        pd.testing.assert_index_equal(new, old, exact=True, check_exact=True)
        assert new.freq == old.freq and new.dtype == old.dtype == np.dtype("datetime64[ns]")
    else:
        assert new == old
    return val._plain_iso(values)


def chunked(values: list[str | None], cuts: list[int], dtype: pd.StringDtype) -> pd.Series:
    """An Arrow-backed string column split into chunks at `cuts` (as a parallel read makes)."""
    bounds = [0, *sorted(min(c, len(values)) for c in cuts), len(values)]
    parts = [pa.array(values[a:b], pa.large_string()) for a, b in itertools.pairwise(bounds)]
    array = pd.arrays.ArrowStringArray(pa.chunked_array(parts, pa.large_string()), dtype=dtype)
    return pd.Series(array, name="Date")


STR = pd.StringDtype("pyarrow", na_value=np.nan)  # what pandas 3's read_csv gives
STRING = pd.StringDtype("pyarrow")  # pd.NA-backed

PLAIN = {
    "date only": ["2020-01-01", "2020-01-02", "2020-02-29"],
    "space": ["2020-01-01 09:30:00", "2020-01-01 09:31:00"],
    "T": ["2020-01-01T09:30:00", "2020-01-01T09:31:00"],
    "space and T": ["2020-01-01 09:30:00", "2020-01-01T09:31:00"],
    "minutes": ["2020-01-01 09:30", "2020-01-01 23:59"],
    "tenths": ["2020-01-01 09:30:00.5", "2020-01-01 09:30:00.6"],
    "millis": ["2020-01-01 09:30:00.123", "2020-01-01 09:30:00.124"],
    "micros": ["2020-01-01 09:30:00.123456", "2020-01-01 09:30:01.000001"],
    "nanos": ["2020-01-01 09:30:00.123456789", "2020-01-01 09:30:00.000000001"],
    "unsorted and duplicate": ["2020-01-02", "2020-01-01", "2020-01-01"],
    "oldest whole year": ["1678-01-01 00:00:00", "1678-12-31 23:59:59"],
    "latest whole year": ["2261-12-31 23:59:59.999999999", "2261-01-01 00:00:00.000000000"],
    "one value": ["2024-01-31 09:30:00"],
}

OTHER = {
    "hour only": ["2020-01-01 09", "2020-01-01 10"],
    "mixed fraction lengths": ["2020-01-01 09:30:00", "2020-01-01 09:30:00.5"],
    "date and date-time": ["2020-01-01", "2020-01-01 10:00:00"],
    "ten fraction digits": ["2020-01-01 09:30:00.1234567891", "2020-01-01 09:30:00.1234567892"],
    "Z": ["2020-01-01 09:30:00Z", "2020-01-01 09:31:00Z"],
    "Z date": ["2020-01-01Z", "2020-01-02Z"],
    "offset": ["2020-01-01 09:30:00+01:00", "2020-01-01 09:31:00+01:00"],
    "offset no colon": ["2020-01-01 09:30:00+0100", "2020-01-01 09:31:00+0100"],
    "mixed offsets": ["2024-03-29 10:00+01:00", "2024-04-02 10:00+02:00"],
    "offset on some rows": ["2024-01-01 10:00+00:00", "2024-01-02 10:00"],
    "UTC suffix": ["2020-01-01 09:30:00 UTC", "2020-01-01 09:31:00 UTC"],
    "now": ["now", "2020-01-01"],
    "today": ["2020-01-01", "today"],
    "NaT text": ["NaT", "2020-01-01"],
    "nat lower": ["2020-01-01", "nat"],
    "empty string": ["2020-01-01", ""],
    "missing": ["2020-01-01", None],
    "all missing": [None, None],
    "compact date": ["20200101", "20200102"],
    "compact date-time": ["20200101T093000", "20200102T093000"],
    "compact time": ["2020-01-01 0930", "2020-01-01 0931"],
    "compact seconds": ["2020-01-01 093000", "2020-01-01 093100"],
    "leading space": [" 2020-01-01", " 2020-01-02"],
    "trailing space": ["2020-01-01 ", "2020-01-02 "],
    "trailing newline": ["2020-01-01\n", "2020-01-02\n"],
    "year 1500": ["1500-01-01", "1500-01-02"],
    "year 2300": ["2300-01-01", "2300-01-02"],
    "year 1677 in range": ["1677-09-22", "1677-12-31"],
    "year 1677 out of range": ["1677-09-21 00:00:00", "1677-09-22 00:00:00"],
    "year 2262 in range": ["2262-04-11 00:00:00", "2262-04-11 23:47:16"],
    "year 2262 out of range": ["2262-04-11 23:47:17", "2262-04-12 00:00:00"],
    "year 0000": ["0000-01-01", "0000-01-02"],
    "year 9999": ["9999-12-31", "9999-12-30"],
    "US order": ["01/02/2020", "01/03/2020"],
    "day first": ["13/01/2024", "14/01/2024"],
    "dots": ["2020.01.01", "2020.01.02"],
    "single digits": ["2020-1-1", "2020-1-2"],
    "single digit hour": ["2020-01-01 9:30", "2020-01-01 9:31"],
    "Feb 29 of a common year": ["2021-02-28", "2021-02-29"],
    "Feb 30": ["2020-02-28", "2020-02-30"],
    "April 31": ["2020-04-30", "2020-04-31"],
    "month 13": ["2020-12-01", "2020-13-01"],
    "day 00": ["2020-01-01", "2020-01-00"],
    "hour 24": ["2020-01-01 23:00:00", "2020-01-01 24:00:00"],
    "minute 60": ["2020-01-01 23:00:00", "2020-01-01 23:60:00"],
    "leap second": ["2020-01-01 23:59:59", "2020-01-01 23:59:60"],
    "lower t": ["2020-01-01t09:30:00", "2020-01-01t09:31:00"],
    "underscore": ["2020-01-01_09:30:00", "2020-01-01_09:31:00"],
    "full-width digits": ["２０２０-01-01", "２０２０-01-02"],
    "signed year": ["+2020-01-01", "+2020-01-02"],
    "garbage": ["2020-01-01 09:30:00", "not a date 123"],
    "same width garbage": ["2020-01-01", "2020-0a-01"],
    "digits as text": ["1577836800", "1577836860"],
}


@pytest.mark.parametrize("name", sorted(PLAIN))
@pytest.mark.parametrize("dtype", [STR, STRING], ids=["str", "string"])
def test_plain_iso_takes_the_fast_path_and_matches(name: str, dtype: pd.StringDtype) -> None:
    series = pd.Series(PLAIN[name], dtype=dtype, name="Date")
    assert assert_same(series) is not None
    assert assert_same(pd.Index(PLAIN[name], dtype=dtype, name="when")) is not None
    assert assert_same(pd.Series(PLAIN[name], dtype=object, name="Date")) is None  # not Arrow


@pytest.mark.parametrize("name", sorted(OTHER))
@pytest.mark.parametrize("dtype", [STR, STRING, object], ids=["str", "string", "object"])
def test_everything_else_goes_the_pandas_way_with_the_same_result(name: str, dtype: object) -> None:
    series = pd.Series(OTHER[name], dtype=dtype, name="Date")
    clock = name in ("now", "today")
    assert assert_same(series, clock=clock) is None
    assert assert_same(pd.Index(OTHER[name], dtype=dtype), clock=clock) is None


def test_chunked_and_sliced_arrow_columns() -> None:
    values = [f"2020-01-{d:02d} 0{h}:30:00" for d in range(1, 29) for h in range(10)]
    for dtype in (STR, STRING):
        series = chunked(values, [0, 7, 7, 100, 281], dtype)
        assert assert_same(series) is not None
        assert assert_same(series.iloc[3:]) is not None  # chunks with an offset
        assert assert_same(series.iloc[50:51]) is not None
        bad = chunked([*values[:150], "2020-02-30 00:00:00", *values[150:]], [10, 151], dtype)
        assert assert_same(bad) is None
        # Widths are compared within a chunk: a date-only chunk among date-time ones is
        # still every value in a plain form (taken); the same value inside one is not.
        mixed = chunked([*values[:150], "2020-02-03", *values[150:]], [10, 150, 151], dtype)
        assert assert_same(mixed) is not None
        mixed = chunked([*values[:150], "2020-02-03", *values[150:]], [10, 150], dtype)
        assert assert_same(mixed) is None


_LONG = [f"2020-01-{1 + i // 24:02d} {i % 24:02d}:15:30" for i in range(200)]  # 3 blocks + 8


@pytest.mark.parametrize("row", [0, 1, 63, 64, 127, 191, 192, 199])
@pytest.mark.parametrize("char", ["x", "/", ":", "-", " "])  # "/" and ":" border the digits
def test_a_bad_byte_anywhere_in_a_long_column_is_seen(row: int, char: str) -> None:
    # The shape check reads 64 rows at a time, then the rest row by row: both parts.
    for at in range(19):
        values = list(_LONG)
        values[row] = values[row][:at] + char + values[row][at + 1 :]
        plain = re.fullmatch(
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}", values[row]
        )
        taken = assert_same(pd.Series(values, dtype=STR, name="Date"))
        assert (taken is not None) == (plain is not None), (row, at, char)
        # The shape check alone, not only Arrow's parse after it, refuses the value.
        shaped = val._plain_shape(pa.array(values, pa.large_string()))
        assert shaped == (plain is not None), (row, at, char)


@pytest.mark.parametrize("row", [0, 63, 64, 192, 199])
@pytest.mark.parametrize("year", ["1677", "2262", "0999", "3000"])
def test_a_year_outside_1678_2261_anywhere_goes_the_pandas_way(row: int, year: str) -> None:
    values = list(_LONG)
    values[row] = year + values[row][4:]
    assert assert_same(pd.Series(values, dtype=STR, name="Date")) is None
    assert not val._plain_shape(pa.array(values, pa.large_string()))
    values[row] = "2261-12-31 23:59:59"  # the last whole year is taken
    assert assert_same(pd.Series(values, dtype=STR, name="Date")) is not None


def test_the_shape_check_reads_narrow_offsets_too() -> None:
    # pandas keeps large_string; an Arrow `string` array (int32 offsets) is read alike.
    assert val._plain_shape(pa.array(["2020-01-01 10:00", "2020-01-02 10:00"], pa.string()))
    assert not val._plain_shape(pa.array(["2020-01-01 10:00", "2020-01-02 1000"], pa.string()))
    assert not val._plain_shape(pa.array(["2020-01-01", None], pa.large_string()))
    assert val._plain_shape(pa.array([], pa.large_string()))


def test_csv_read_through_load_frame_gives_the_old_index(tmp_path: Path) -> None:
    rows = [f"2020-01-{1 + i // 24:02d}T{i % 24:02d}:00:00.25,1,2,0.5,1.5,10" for i in range(96)]
    path = tmp_path / "bars.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n")
    frame = load_frame(f"csv:{path}")[1]
    expected = old_to_datetime(pd.read_csv(path)["Date"], ORIGIN)
    pd.testing.assert_index_equal(frame.index, expected.rename(None), exact=True)


_FORMS = st.sampled_from(["date", "minute", "second", "fraction"])


@st.composite
def stamp_columns(draw: st.DrawFn) -> list[str]:
    """Valid timestamps, one form for all values or (sometimes) a mix of forms."""
    count = draw(st.integers(1, 25))
    mixed = draw(st.booleans())
    form, digits, sep = draw(_FORMS), draw(st.integers(1, 9)), draw(st.sampled_from(" T"))
    out = []
    for _ in range(count):
        if mixed:
            form, digits = draw(_FORMS), draw(st.integers(1, 9))
            sep = draw(st.sampled_from(" T"))
        when = draw(
            st.datetimes(min_value=datetime(1678, 1, 1), max_value=datetime(2261, 12, 31, 23, 59))
        )
        nanos = draw(st.integers(0, 999_999_999))
        text = when.strftime("%Y-%m-%d")
        if form != "date":
            text += sep + when.strftime("%H:%M")
        if form in ("second", "fraction"):
            text += when.strftime(":%S")
        if form == "fraction":
            text += "." + f"{nanos:09d}"[:digits]
        out.append(text)
    return out


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=stamp_columns(),
    dtype=st.sampled_from([STR, STRING]),
    cuts=st.lists(st.integers(0, 25), max_size=3),
)
def test_random_valid_timestamps_match(
    values: list[str], dtype: pd.StringDtype, cuts: list[int]
) -> None:
    series = chunked(values, cuts, dtype)
    fast = assert_same(series)
    if len({len(v) for v in values}) == 1:
        assert fast is not None  # one width: the fast path must have taken it
    if fast is not None:
        # It also says nothing pandas would have said (normalize_frame outside load_frame).
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            old_to_datetime(series, ORIGIN)
        assert [str(w.message) for w in caught] == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=stamp_columns(),
    row=st.integers(0, 24),
    at=st.integers(0, 30),
    char=st.sampled_from(list("0123456789-: T.tZz+/_aN")),
    how=st.sampled_from(["replace", "insert", "delete"]),
)
def test_one_damaged_character_still_matches(
    values: list[str], row: int, at: int, char: str, how: str
) -> None:
    row %= len(values)
    text = values[row]
    at %= len(text) + 1
    if how == "replace":
        text = text[:at] + char + text[at + 1 :]
    elif how == "insert":
        text = text[:at] + char + text[at:]
    else:
        text = text[:at] + text[at + 1 :]
    values = [*values[:row], text, *values[row + 1 :]]
    assert_same(pd.Series(values, dtype=STR, name="Date"))


# --- numeric columns -------------------------------------------------------------------


def test_numeric_columns_pass_through_as_pd_to_numeric_gave_them() -> None:
    index = [f"2024-01-0{d}" for d in range(1, 5)]
    raw = pd.DataFrame(
        {
            "Date": pd.Series(index, dtype=STR),
            "Open": [1.0, 2.0, 3.0, 4.0],
            "High": [2.0, 3.0, 4.0, 5.0],
            "Low": [0.5, 1.5, 2.5, 3.5],
            "Close": [1.5, 2.5, 3.5, 4.5],
            "Volume": [10.0, np.nan, 0.0, 1.0],  # an empty cell
            "empty": [np.nan] * 4,
            "some": [1.0, np.nan, 3.0, np.nan],
            "nullable": pd.array([1.0, None, 3.0, 4.0], dtype="Float64"),
            "ints": np.array([1, -2, 3, 2**53 + 1], dtype=np.int64),
            "uints": np.array([1, 2, 3, 2**64 - 1], dtype=np.uint64),
            "small": np.array([1.5, 2, 3, 4], dtype=np.float32),
            "nullable ints": pd.array([1, None, 3, 4], dtype="Int64"),
            "flags": [True, False, True, True],
            "numbers as text": pd.Series(["1", "2.5", None, "4"], dtype=STR),
        }
    )
    with pytest.raises(DataError) as info:
        normalize_frame(raw, Origin("t"), first_column_is_index=True)
    assert str(info.value) == (
        "t: row 2 (2024-01-02 00:00:00): Volume is nan (rule: prices and volume must be "
        "finite numbers); fill or drop the row"
    )
    raw["Volume"] = np.array([10, 11, 0, 1], dtype=np.int64)  # whole numbers: int64 from a CSV
    out = normalize_frame(raw, Origin("t"), first_column_is_index=True)
    assert list(out.columns) == list(raw.columns[1:])
    for name in out.columns:
        old = pd.to_numeric(raw[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        np.testing.assert_array_equal(out[name].to_numpy(), old)
        assert out[name].dtype == np.float64


# --- cache key -------------------------------------------------------------------------


def test_file_stamp_hashes_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    data = bytes(range(256)) * 5000  # more than one read buffer
    path.write_bytes(data)
    assert _file_stamp(path)[4] == hashlib.sha256(data).hexdigest()
    assert _file_stamp(path)[2] == len(data)
    with pytest.raises(OSError):
        _file_stamp(tmp_path / "missing.csv")


def test_data_key_follows_the_bytes() -> None:
    from isoloop.config.models import DataConfig

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.csv"
        path.write_bytes(b"a,b\n1,2\n")
        configs = [DataConfig(source=f"csv:{path}", symbol="X")]
        first = data_key(configs, None)
        assert data_key(configs, None) == first
        path.write_bytes(b"a,b\n1,3\n")
        assert data_key(configs, None) != first
