"""Load market data from a source URI into validated frames and read-only `Bars`.

Source URIs: `sample:GOOG|EURUSD|BTCUSD` (the installed `backtesting` package's
bundled CSVs, read at run time and never copied), `csv:PATH`, `parquet:PATH`
(relative paths resolve against the config file's folder) and
`synthetic:gbm?bars=N&seed=S`.
"""

from __future__ import annotations

import importlib.util
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from isoloop.config.limits import check_limit, exceeded, limit_value, shorten
from isoloop.data.bars import Bars, MarketData
from isoloop.data.fingerprint import fingerprint
from isoloop.data.synthetic import gbm_frame, parse_gbm_query
from isoloop.data.validation import Origin, normalize_frame
from isoloop.errors import DataError

if TYPE_CHECKING:
    from isoloop.config.models import DataConfig

__all__ = [
    "SAMPLE_NAMES",
    "SCHEMES",
    "load_frame",
    "load_market_data",
    "sample_path",
    "source_symbol",
    "window",
]

SCHEMES = ("sample", "csv", "parquet", "synthetic")
SAMPLE_NAMES = ("BTCUSD", "EURUSD", "GOOG")

TimeBound = date | datetime | str | pd.Timestamp | None


def sample_path(name: str) -> Path:
    """Path of a bundled sample CSV inside the installed `backtesting` package."""
    key = name.strip().upper()
    if key not in SAMPLE_NAMES:
        raise DataError(
            f"sample:{shorten(name)}: unknown sample {shorten(repr(name))}; use one of "
            + ", ".join(f"sample:{s}" for s in SAMPLE_NAMES)
        )
    spec = importlib.util.find_spec("backtesting")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            f"sample:{name}: the 'backtesting' package is not installed; install it or use csv:PATH"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "test" / f"{key}.csv"
    if not path.is_file():
        raise DataError(f"sample:{name}: {path} is missing from the installed backtesting package")
    return path


def _resolve(path_text: str, base_dir: Path | None, source: str) -> Path:
    if not path_text:
        raise DataError(f"{source}: no path given; write e.g. csv:data/prices.csv")
    path = Path(path_text).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    try:
        exists, regular = path.exists(), path.is_file()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise DataError(
            f"{shorten(source, 120)}: the path cannot be used ({exc.strerror}); fix the path"
        ) from None
    if exists and not regular:
        raise DataError(
            f"{source}: {path} is not a regular file (a folder, device or pipe); "
            "point data.source at a CSV or parquet file"
        )
    if not regular:
        raise DataError(
            f"{source}: file not found: {path} (relative paths are resolved against the "
            "config file's folder); fix the path"
        )
    return path


@contextmanager
def _quiet() -> Iterator[None]:
    """No pandas/numpy warning reaches the user's terminal: every rule is an error of ours."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


#: Bytes `_scan_lines` reads at a time. Which over-long line's message gives its exact
#: size ("is 70_000") and which says "is over" depends on where these reads end, so it
#: stays 1 MiB for the messages to stay what they were.
_SCAN_CHUNK = 1 << 20


def _long_line(chunk: bytes, first: int, last: int, carried: int, max_line: int) -> int | None:
    """Where in `chunk` the first line over `max_line` bytes starts (0: the line carried in).

    `first` and `last` are the positions of the chunk's first and last line ends and
    `carried` the bytes the line in progress had before the chunk. From a line's start,
    `rfind` searches the next `max_line` + 1 bytes backwards for a line end: one found
    proves every line starting in between short, and the walk goes on after it, so a
    chunk costs about chunk / `max_line` memrchr calls rather than a test per byte;
    none found means the line at the start is longer than `max_line`.
    """
    if carried + first > max_line:
        return 0
    start = first + 1
    while start <= last:
        stop = start + max_line + 1
        if stop > last:
            return None  # every line from here ends by `last`, so within `max_line` bytes
        found = chunk.rfind(b"\n", start, stop)
        if found < 0:
            return start
        start = found + 1
    return None


def _scan_lines(path: Path, origin: Origin, *, chunk_bytes: int = _SCAN_CHUNK) -> None:
    """File size, longest line and line count, in bounded memory, before pandas reads.

    A one-line 1 GB CSV would otherwise cost pandas several GB before any check runs.
    After each `chunk_bytes` read, in this order: a complete line over the limit (its
    size given), the line in progress when already over it (no size: it has not
    ended), then the row count.
    """
    check_limit("data_bytes", path.stat().st_size, origin.name)
    max_line = limit_value("csv_line_bytes")
    max_rows = limit_value("bars")
    lines = 0  # complete lines seen so far
    current = 0  # bytes of the line in progress
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_bytes):
            first = chunk.find(b"\n")
            if first < 0:
                current += len(chunk)
            else:
                last = chunk.rfind(b"\n")
                start = _long_line(chunk, first, last, current, max_line)
                if start is not None:
                    length = chunk.find(b"\n", start) - start + (current if start == 0 else 0)
                    number = lines + chunk.count(b"\n", 0, start) + 1
                    where = f"{origin.name}: line {number}"
                    raise exceeded("csv_line_bytes", where, f"{length:_}", max_line)
                # NumPy counts line ends ≈ 2-3x faster than bytes.count here (a SIMD compare).
                lines += int(np.count_nonzero(np.frombuffer(chunk, dtype=np.uint8) == 10))
                current = len(chunk) - last - 1
            if current > max_line:
                where = f"{origin.name}: line {lines + 1}"
                raise exceeded("csv_line_bytes", where, None, max_line)
            if lines - 1 > max_rows:
                raise exceeded("bars", origin.name, None, max_rows)


def _parser_problem(exc: Exception) -> str:
    """What went wrong reading a file, in our words: pandas' text may quote the file."""
    if isinstance(exc, UnicodeDecodeError):
        return f"is not UTF-8 text (byte {exc.start}); save it as UTF-8"
    found = re.search(r"line (\d+)", str(exc))
    if found:
        return (
            f"line {found.group(1)} has a different number of fields than the header; "
            "check the file format (comma-separated, one header line)"
        )
    if isinstance(exc, OSError):
        return f"cannot be read ({exc.strerror or type(exc).__name__}); check the file"
    return "cannot be read as CSV; check the file format (comma-separated, one header line)"


def _read_csv(path: Path, source: str, notes: list[str]) -> pd.DataFrame:
    origin = Origin(f"{source} ({path})", first_line=2, unit="line")
    try:
        _scan_lines(path, origin)
    except OSError as exc:  # e.g. permission denied
        raise origin.fail(_parser_problem(exc)) from None
    try:
        raw = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise origin.fail("the file is empty (rule: data must not be empty)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise origin.fail(_parser_problem(exc)) from None
    return normalize_frame(raw, origin, first_column_is_index=True, on_ignored=notes.append)


def _read_parquet(path: Path, source: str, notes: list[str]) -> pd.DataFrame:
    origin = Origin(f"{source} ({path})")
    try:
        check_limit("data_bytes", path.stat().st_size, origin.name)
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(path).metadata.num_rows
    except ImportError:
        rows = 0  # pandas names the missing engine below
    except (OSError, ValueError):
        raise origin.fail("is not a readable parquet file; check the file format") from None
    check_limit("bars", rows, origin.name)
    try:
        raw = pd.read_parquet(path)
    except ImportError as exc:
        raise origin.fail(f"cannot be read: {exc}".replace("\n", " ")) from None
    except (OSError, ValueError):
        raise origin.fail("is not a readable parquet file; check the file format") from None
    if not isinstance(raw.index, pd.DatetimeIndex):
        raw = raw.reset_index(drop=isinstance(raw.index, pd.RangeIndex))
    return normalize_frame(raw, origin, first_column_is_index=True, on_ignored=notes.append)


def _bound(value: TimeBound, *, end: bool) -> pd.Timestamp | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        # A bare date as `end` includes that whole day (intraday bars too).
        stamp = pd.Timestamp(value)
        return stamp + pd.Timedelta(timedelta(days=1)) - pd.Timedelta(1, "ns") if end else stamp
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def window(frame: pd.DataFrame, start: TimeBound = None, end: TimeBound = None) -> pd.DataFrame:
    """The rows with start <= timestamp <= end (both inclusive, either optional)."""
    lo, hi = _bound(start, end=False), _bound(end, end=True)
    index = pd.DatetimeIndex(frame.index)
    mask = np.ones(len(index), dtype=bool)
    if lo is not None:
        mask &= np.asarray(index >= lo)
    if hi is not None:
        mask &= np.asarray(index <= hi)
    return frame.loc[mask]


def load_frame(
    source: str,
    *,
    base_dir: Path | None = None,
    symbol: str | None = None,
    start: TimeBound = None,
    end: TimeBound = None,
) -> tuple[str, pd.DataFrame]:
    """(symbol, validated frame) for a source URI, cut to [start, end].

    The frame holds Open..Volume and then the source's other numeric columns; a
    column without numbers is left out with one `UserWarning` naming it.
    """
    notes: list[str] = []
    with _quiet():
        loaded = _load_frame(
            source, base_dir=base_dir, symbol=symbol, start=start, end=end, notes=notes
        )
    # Raised outside `_quiet`, which silences pandas' own warnings, not ours.
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    return loaded


def source_symbol(source: str) -> str:
    """The symbol a source's bars get when `symbol:` is not given (nothing is read)."""
    scheme, _, rest = source.partition(":")
    if scheme == "sample":
        return rest.strip().upper()
    if scheme in ("csv", "parquet"):
        return Path(rest).stem
    return "GBM"


def _load_frame(
    source: str,
    *,
    base_dir: Path | None,
    symbol: str | None,
    start: TimeBound,
    end: TimeBound,
    notes: list[str],
) -> tuple[str, pd.DataFrame]:
    scheme, sep, rest = source.partition(":")
    if not sep or scheme not in SCHEMES:
        raise DataError(
            f"data source {shorten(repr(source))}: unknown scheme; use one of "
            "sample:NAME, csv:PATH, parquet:PATH, synthetic:gbm?bars=N&seed=S"
        )
    if scheme == "sample":
        path = sample_path(rest)
        frame = _read_csv(path, source, notes)
    elif scheme == "csv":
        path = _resolve(rest, base_dir, source)
        frame = _read_csv(path, source, notes)
    elif scheme == "parquet":
        path = _resolve(rest, base_dir, source)
        frame = _read_parquet(path, source, notes)
    else:
        spec = parse_gbm_query(source, rest)
        frame = normalize_frame(gbm_frame(spec), Origin(source))
    if start is not None or end is not None:
        frame = window(frame, start, end)
        if frame.empty:
            raise DataError(
                f"{source}: no bars between start={start} and end={end}; widen the window "
                "(data.start / data.end)"
            )
    return (symbol or source_symbol(source)), frame


def load_market_data(
    configs: Sequence[DataConfig], base_dir: Path | None
) -> tuple[MarketData, dict[str, str]]:
    """Read-only bars for every config plus a symbol → fingerprint map (sorted by symbol).

    `configs[0]` is the run's `data:` entry, the rest its `instruments:`; only the
    first may choose the clock, and a clock naming a symbol must name a loaded one.
    """
    if not configs:
        raise DataError("no data configured; set data.source (e.g. sample:GOOG)")
    for n, cfg in enumerate(configs[1:]):
        if cfg.clock != "primary":
            raise DataError(
                f"instruments[{n}].clock: the run has one clock, chosen in data.clock; "
                "remove it here"
            )
    bars: dict[str, Bars] = {}
    prints: dict[str, str] = {}
    sources: dict[str, str] = {}
    for cfg in configs:
        symbol, frame = load_frame(
            cfg.source, base_dir=base_dir, symbol=cfg.symbol, start=cfg.start, end=cfg.end
        )
        if symbol in bars:
            raise DataError(
                f"data source {cfg.source!r}: symbol {symbol!r} is already loaded from "
                f"{sources[symbol]!r}; give one of them a different `symbol:`"
            )
        sources[symbol] = cfg.source
        bars[symbol] = Bars.from_frame(frame, symbol)
        prints[symbol] = fingerprint(bars[symbol])
    clock = configs[0].clock
    if clock not in ("primary", "union") and clock not in bars:
        raise DataError(
            f"data.clock: {shorten(repr(clock))} is not a loaded symbol (loaded: "
            f"{', '.join(sorted(bars))}); use primary, union or one of those symbols"
        )
    return MarketData(bars), {k: prints[k] for k in sorted(prints)}
