"""Normalize and validate OHLCV frames before any run sees them.

Every rule is checked up front and the first violation is reported in one line
that names the source, the row (timestamp and 1-based line/row number) and the
rule, so a user can fix the file without reading a traceback.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute

from isoloop.data.bars import OHLCV_COLUMNS
from isoloop.errors import DataError

__all__ = [
    "INDEX_NAMES",
    "MAX_PRICE",
    "MAX_VOLUME",
    "MIN_PRICE",
    "Origin",
    "normalize_frame",
    "shown_column",
]

#: Column names (any case) that are taken as the timestamp column.
INDEX_NAMES = ("date", "datetime", "time", "timestamp")
#: Prices outside [MIN_PRICE, MAX_PRICE] (zero, negative, 1e300) make cash / price or
#: units * price overflow or lose every digit; volume is bounded for the same reason.
MIN_PRICE = 1e-100
MAX_PRICE = 1e12
MAX_VOLUME = 1e18
# A header is file content: a column's name is repeated in a message only when it
# looks like a plain column name (no `=`, quotes or long runs a secret would have).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_ .%/()+-]{0,39}")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a frame came from, so errors can point at the right line.

    `first_line` is the line/row number of the first data row: 2 for a CSV with a
    header line, 1 for parquet or generated data (reported as "row").
    """

    name: str
    first_line: int = 1
    unit: str = "row"

    def where(self, position: int, stamp: object | None = None) -> str:
        at = f"{self.unit} {position + self.first_line}"
        if stamp is not None and not (isinstance(stamp, float) and np.isnan(stamp)):
            at += f" ({stamp})"
        return f"{self.name}: {at}"

    def fail(self, message: str) -> DataError:
        return DataError(f"{self.name}: {message}")


def _index_column(frame: pd.DataFrame) -> str | None:
    for col in frame.columns:
        if str(col).strip().lower() in INDEX_NAMES:
            return str(col)
    return None


_TZ_SUFFIX = r"(?:Z|[+-]\d\d:?\d\d|UTC|GMT)\s*$"


def _with_zones(values: pd.Index | pd.Series, origin: Origin) -> pd.DatetimeIndex:
    """Timestamps with differing UTC offsets (DST, or several zones): converted to UTC.

    Offsets on some rows but not on others are ambiguous (is a bare time UTC or
    local?), so that is an error naming the first row that differs from the first.
    """
    text = pd.Series(values).astype(str)
    aware = text.str.contains(_TZ_SUFFIX, regex=True).to_numpy()
    pos = _first(aware != aware[0])
    if pos is not None:
        has = "has" if aware[pos] else "has no"
        first = "has none" if aware[pos] else "has one"
        raise DataError(
            f"{origin.where(pos)}: the timestamp {has} UTC offset but the first row's "
            f"{first} (rule: every timestamp carries an offset, or none does); write them "
            "all in one form, e.g. 2024-01-31 09:30:00+00:00"
        )
    parsed = pd.to_datetime(pd.Series(values), utc=True, errors="coerce", format="mixed")
    return pd.DatetimeIndex(parsed)


_ROWS = 64  # rows per line of the matrix `_plain_shape` checks
_YEAR_MIN = int.from_bytes(b"1678", "big")
_YEAR_MAX = int.from_bytes(b"2261", "big")


def _plain_shape(strings: Any) -> bool:
    """Whether all values of an Arrow string array have one plain ISO 8601 form.

    YYYY-MM-DD, then optionally (after a space or T) hh:mm, hh:mm:ss or hh:mm:ss.f with
    1 to 9 fractional digits; years 1678-2261. Read straight off the array's offsets and
    bytes as a (values × width) byte matrix: ≈ 3 ms for 200 000 values, where a regular
    expression over them takes ≈ 16 ms. One width per array keeps it that simple; an
    array mixing forms goes the pandas way.
    """
    if strings.null_count or strings.type not in (pa.string(), pa.large_string()):
        return False
    count = len(strings)
    if count == 0:
        return True  # an empty chunk of a longer column
    _, offsets_buffer, data_buffer = strings.buffers()
    step = np.dtype(np.int64 if strings.type == pa.large_string() else np.int32)
    offsets = np.frombuffer(
        offsets_buffer, dtype=step, count=count + 1, offset=strings.offset * step.itemsize
    )
    width = int(offsets[1] - offsets[0])
    if width in (10, 16, 19):  # the form with its digits written as 0
        shape = "0000-00-00 00:00:00"[:width]
    elif 21 <= width <= 29:
        shape = "0000-00-00 00:00:00." + "0" * (width - 20)
    else:
        return False
    if not bool(np.all(np.diff(offsets) == width)):
        return False
    start = int(offsets[0])
    flat = np.frombuffer(data_buffer, dtype=np.uint8, count=count * width, offset=start)
    # Byte b is in [low, low + span] iff b - low (wrapping around in uint8) <= span.
    low = np.frombuffer(shape.encode(), dtype=np.uint8).copy()
    span = np.frombuffer(shape.replace("0", "9").encode(), dtype=np.uint8) - low
    if width > 10:
        # The date-time separator: a space or T; the range lets both through, this decides.
        low[10], span[10] = ord(" "), ord("T") - ord(" ")
        sep = flat[10::width]
        if not bool(np.all((sep == ord(" ")) | (sep == ord("T")))):
            return False
    # 64 rows to a line of the matrix: NumPy's inner loop then runs over 64 rows at a
    # time instead of one row's few bytes (≈ 2x faster); the rows left over go alone.
    body = count // _ROWS * _ROWS * width
    block, rest = flat[:body].reshape(-1, _ROWS * width), flat[body:].reshape(-1, width)
    if not bool(np.all((block - np.tile(low, _ROWS)) <= np.tile(span, _ROWS))):
        return False
    if not bool(np.all((rest - low) <= span)):
        return False
    # Every instant of these years fits datetime64[ns] (1677 and 2262 only partly). The
    # four bytes are digits by now, so read in place as big-endian integers (one per
    # row, `width` bytes apart) they order like the years.
    years = np.ndarray((count,), dtype=">u4", buffer=data_buffer, offset=start, strides=(width,))
    return bool(np.all((years >= _YEAR_MIN) & (years <= _YEAR_MAX)))


def _plain_iso(values: pd.Index | pd.Series) -> pd.DatetimeIndex | None:
    """The timestamps of an Arrow-backed string column of plain ISO 8601 times, else None.

    pandas 3 reads a CSV's text as Arrow strings, and `pd.to_datetime` takes ≈ 50 ms
    for 200 000 of them; Arrow's cast takes ≈ 4 ms, plus ≈ 3 for the shape check.
    Taken only when `_plain_shape` passes every Arrow chunk of the column: no
    offset, blank, "now"/"NaT" or surrounding space, only forms both parsers read as
    the same instant. Arrow refuses impossible dates (2021-02-29, 24:00) itself.
    Anything else returns None and goes through pandas exactly as before.
    """
    dtype = values.dtype
    if not isinstance(dtype, pd.StringDtype) or dtype.storage != "pyarrow" or not len(values):
        return None
    strings = pa.array(values.array)  # the column's own Arrow data
    chunks = strings.chunks if isinstance(strings, pa.ChunkedArray) else [strings]
    if not all(_plain_shape(chunk) for chunk in chunks):
        return None
    try:
        stamps = pa_compute.cast(strings, pa.timestamp("ns"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    # A writable copy, as pandas' own parse gives (Arrow's buffer is read-only).
    parsed = np.array(stamps.to_numpy(), dtype="datetime64[ns]")
    return pd.DatetimeIndex(parsed, name=values.name)


def _to_datetime(values: pd.Index | pd.Series, origin: Origin) -> pd.DatetimeIndex:
    if isinstance(values, pd.DatetimeIndex):
        index = values
    elif (plain := _plain_iso(values)) is not None:
        index = plain
    else:
        try:
            index = pd.DatetimeIndex(pd.to_datetime(values))
        except (ValueError, TypeError, OverflowError):
            # Mixed formats are legal; anything left unparsable is a user error.
            try:
                parsed = pd.to_datetime(pd.Series(values), errors="coerce", format="mixed")
            except (ValueError, TypeError, OverflowError):
                # pandas refuses differing UTC offsets ("Mixed timezones detected").
                parsed = pd.Series(_with_zones(values, origin))
            raw = pd.Series(values)
            bad = np.flatnonzero(parsed.isna().to_numpy() & raw.notna().to_numpy())
            if len(bad) == 0:
                bad = np.flatnonzero(parsed.isna().to_numpy())
            if len(bad):
                # The value itself is not quoted: errors never echo a file's contents.
                raise DataError(
                    f"{origin.where(int(bad[0]))}: the timestamp is not a date/time "
                    "(rule: the index must be datetimes); fix the value or use ISO 8601 "
                    "like 2024-01-31 09:30:00"
                ) from None
            index = pd.DatetimeIndex(parsed)
    missing = np.flatnonzero(index.isna())
    if len(missing):
        raise DataError(
            f"{origin.where(int(missing[0]))}: missing timestamp (rule: every row needs a "
            "date/time); fill it in or drop the row"
        )
    if index.tz is not None:
        # Bars hold naive UTC nanoseconds so fingerprints do not depend on the zone.
        index = index.tz_convert("UTC").tz_localize(None)
    return pd.DatetimeIndex(index.as_unit("ns"))


def _set_index(frame: pd.DataFrame, origin: Origin, *, first_column_is_index: bool) -> pd.DataFrame:
    if isinstance(frame.index, pd.DatetimeIndex):
        # Through the same conversion as a timestamp column: a zone-aware index
        # becomes naive UTC nanoseconds (it reached the rule checks as objects).
        return frame.set_axis(_to_datetime(frame.index, origin), axis=0)
    col = _index_column(frame)
    if col is None and first_column_is_index and len(frame.columns):
        col = str(frame.columns[0])
    if col is None:
        if isinstance(frame.index, pd.RangeIndex):
            raise origin.fail(
                "no timestamp column (rule: the index must be datetimes); add a column "
                f"named one of {', '.join(INDEX_NAMES)}"
            )
        index = _to_datetime(frame.index, origin)
        return frame.set_axis(index, axis=0)
    index = _to_datetime(frame[col], origin)
    out = frame.drop(columns=[col])
    return out.set_axis(index, axis=0)


def shown_column(name: str, position: int) -> str:
    """How a message names a data column: its name when plain, else its position."""
    label = f"column {position}"
    return f"{label} ({name!r})" if _PLAIN_NAME.fullmatch(name) else label


def _numpy_numbers(dtype: object) -> bool:
    """A NumPy float or integer column (what read_csv makes of numbers).

    `pd.to_numeric` returns such a column unchanged, so the checks below (a cell that
    was given but did not become a number) cannot find anything in it and are skipped.
    pandas' nullable Float64/Int64 are not NumPy dtypes and still go through them.
    """
    return isinstance(dtype, np.dtype) and dtype.kind in "fiu"


def _numeric_extra(raw: pd.Series, name: str, position: int, origin: Origin) -> np.ndarray | None:
    """The column as float64 (empty cells NaN), or None when it holds no number at all.

    A column of numbers with one non-number among them is a typo in the data: an
    error naming the row, not a silently dropped column.
    """
    dtype = raw.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return None
    if pd.api.types.is_complex_dtype(dtype):
        return None
    if _numpy_numbers(dtype):
        return raw.to_numpy(dtype="float64", na_value=np.nan)  # what the code below gives
    values = pd.to_numeric(raw, errors="coerce")
    given = raw.notna().to_numpy()
    parsed = values.notna().to_numpy()
    if given.any() and not parsed.any():
        return None
    bad = np.flatnonzero(given & ~parsed)
    if len(bad):
        pos = int(bad[0])
        raise DataError(
            f"{origin.where(pos, raw.index[pos])}: the value in extra "
            f"{shown_column(name, position)} is not a number while the column's other "
            "values are; fix the value, leave the cell empty for 'no value', or drop the column"
        )
    return np.asarray(values.to_numpy(dtype="float64", na_value=np.nan), dtype="float64")


def _normalize_columns(
    frame: pd.DataFrame, origin: Origin, positions: dict[str, int], ignored: list[str]
) -> pd.DataFrame:
    by_lower: dict[str, str] = {}
    for col in frame.columns:
        key = str(col).strip().lower()
        if key in by_lower and key in {c.lower() for c in OHLCV_COLUMNS}:
            raise origin.fail(
                f"columns {by_lower[key]!r} and {col!r} are the same column ignoring case; keep one"
            )
        by_lower.setdefault(key, str(col))
    missing = [c for c in OHLCV_COLUMNS if c.lower() not in by_lower]
    if missing:
        # Only column names from our own vocabulary are echoed: a header line is file content.
        known = {c.lower() for c in (*OHLCV_COLUMNS, *INDEX_NAMES)}
        named = [str(c).strip() for c in frame.columns if str(c).strip().lower() in known]
        others = len(frame.columns) - len(named)
        have = ", ".join([*named, *([f"{others} other column(s)"] if others else [])]) or "none"
        raise origin.fail(
            f"missing column(s) {', '.join(missing)} (have: {have}); the data needs "
            "Open, High, Low, Close, Volume (any case; Volume may be 0 when unknown)"
        )
    out = pd.DataFrame(index=frame.index)
    for name in OHLCV_COLUMNS:
        col = by_lower[name.lower()]
        raw = frame[col]
        if _numpy_numbers(raw.dtype):
            out[name] = raw.to_numpy(dtype="float64", na_value=np.nan)  # as below, sooner
            continue
        values = pd.to_numeric(raw, errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy() & raw.notna().to_numpy())
        if len(bad):
            pos = int(bad[0])
            raise DataError(
                f"{origin.where(pos, frame.index[pos])}: the {name} value is not a number; "
                "fix or drop the row"
            )
        out[name] = values.to_numpy(dtype="float64", na_value=np.nan)
    ohlcv = {c.lower() for c in OHLCV_COLUMNS}
    seen: dict[str, int] = {}
    for pos, col in enumerate(frame.columns):
        name = str(col).strip()
        if name.lower() in ohlcv:
            continue
        where = positions.get(str(col), pos + 1)
        if name in seen:
            first = shown_column(name, seen[name])
            raise origin.fail(
                f"{first} and {shown_column(name, where)} have the same name (surrounding "
                "spaces ignored); rename or drop one"
            )
        seen[name] = where
        extra = _numeric_extra(frame.iloc[:, pos], name, where, origin)
        if extra is None:
            ignored.append(shown_column(name, where))
        else:
            out[name] = extra
    return out


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def _check_rules(frame: pd.DataFrame, origin: Origin) -> None:
    index = pd.DatetimeIndex(frame.index)
    stamps = index.to_numpy()
    if len(stamps) > 1:
        step = np.diff(stamps.astype("int64"))
        pos = _first(step < 0)
        if pos is not None:
            raise DataError(
                f"{origin.where(pos + 1, index[pos + 1])}: timestamp is earlier than the "
                f"previous row's {index[pos]} (rule: timestamps must be sorted ascending); "
                "sort the file by time"
            )
        pos = _first(step == 0)
        if pos is not None:
            raise DataError(
                f"{origin.where(pos + 1, index[pos + 1])}: duplicate timestamp, same as the "
                "previous row (rule: timestamps must be unique); drop or merge the duplicate"
            )
    o, h, lo, c, v = (frame[name].to_numpy() for name in OHLCV_COLUMNS)
    for name, arr in zip(OHLCV_COLUMNS, (o, h, lo, c, v), strict=True):
        pos = _first(~np.isfinite(arr))
        if pos is not None:
            raise DataError(
                f"{origin.where(pos, index[pos])}: {name} is {arr[pos]} (rule: prices and "
                "volume must be finite numbers); fill or drop the row"
            )
    for name, arr in zip(OHLCV_COLUMNS[:4], (o, h, lo, c), strict=True):
        pos = _first((arr < MIN_PRICE) | (arr > MAX_PRICE))
        if pos is not None:
            value = arr[pos]
            if value <= 0:
                rule = "must be positive"
            elif value > MAX_PRICE:
                rule = f"must be at most {MAX_PRICE:g}"
            else:
                rule = f"must be at least {MIN_PRICE:g}"
            raise DataError(
                f"{origin.where(pos, index[pos])}: {name} is {value} (rule: prices {rule}, "
                "so cash / price and size * price cannot overflow); fix or drop the row"
            )
    pos = _first(v > MAX_VOLUME)
    if pos is not None:
        raise DataError(
            f"{origin.where(pos, index[pos])}: Volume is {v[pos]} (rule: volume must be at most "
            f"{MAX_VOLUME:g}); fix or drop the row"
        )
    checks: tuple[tuple[np.ndarray, str], ...] = (
        (h < lo, "High {h} < Low {l} (rule: High >= Low)"),
        (h < np.maximum(o, c), "High {h} < max(Open {o}, Close {c}) (rule: High >= Open, Close)"),
        (lo > np.minimum(o, c), "Low {l} > min(Open {o}, Close {c}) (rule: Low <= Open, Close)"),
        (v < 0, "Volume {v} is negative (rule: Volume >= 0)"),
    )
    for mask, text in checks:
        pos = _first(mask)
        if pos is not None:
            detail = text.format(h=h[pos], l=lo[pos], o=o[pos], c=c[pos], v=v[pos])
            raise DataError(f"{origin.where(pos, index[pos])}: {detail}; fix or drop the row")


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=4)


def normalize_frame(
    raw: pd.DataFrame,
    origin: Origin,
    *,
    first_column_is_index: bool = False,
    on_ignored: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """A float64 frame with a sorted unique naive DatetimeIndex, columns Open..Volume,
    then the source's other numeric columns (names as written, case kept).

    A column with no number in it (a ticker, a note) is left out and reported once
    through `on_ignored` (default: a `UserWarning`). Raises `DataError` naming the
    source, row and rule on the first violation.
    """
    if raw.shape[0] == 0:
        raise origin.fail("no data rows (rule: data must not be empty); check the file/source")
    positions = {str(c): i + 1 for i, c in enumerate(raw.columns)}
    frame = _set_index(raw, origin, first_column_is_index=first_column_is_index)
    ignored: list[str] = []
    frame = _normalize_columns(frame, origin, positions, ignored)
    if ignored:
        (on_ignored or _warn)(
            f"{origin.name}: ignored {len(ignored)} column(s) with no numbers in them: "
            f"{', '.join(ignored)}; only numeric columns reach the strategy"
        )
    _check_rules(frame, origin)
    frame.index.name = None
    return frame
