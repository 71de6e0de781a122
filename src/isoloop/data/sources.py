"""Load market data from a source URI into validated frames and read-only `Bars`.

Source URIs: `sample:GOOG|EURUSD|BTCUSD` (the installed `backtesting` package's
bundled CSVs, read at run time and never copied), `csv:PATH`, `parquet:PATH`
(relative paths resolve against the config file's folder) and
`synthetic:gbm?bars=N&seed=S`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

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
            f"sample:{name}: unknown sample {name!r}; use one of "
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
    if not path.is_file():
        raise DataError(
            f"{source}: file not found: {path} (relative paths are resolved against the "
            "config file's folder); fix the path"
        )
    return path


def _read_csv(path: Path, source: str) -> pd.DataFrame:
    origin = Origin(f"{source} ({path})", first_line=2, unit="line")
    try:
        raw = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise origin.fail("the file is empty (rule: data must not be empty)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        text = str(exc).strip().replace("\n", " ")
        raise origin.fail(f"cannot be read as CSV ({text}); check the file format") from None
    return normalize_frame(raw, origin, first_column_is_index=True)


def _read_parquet(path: Path, source: str) -> pd.DataFrame:
    origin = Origin(f"{source} ({path})")
    try:
        raw = pd.read_parquet(path)
    except (OSError, ValueError, ImportError) as exc:
        text = str(exc).strip().replace("\n", " ")
        raise origin.fail(f"cannot be read as parquet ({text}); check the file format") from None
    if not isinstance(raw.index, pd.DatetimeIndex):
        raw = raw.reset_index(drop=isinstance(raw.index, pd.RangeIndex))
    return normalize_frame(raw, origin, first_column_is_index=True)


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
    """(symbol, validated OHLCV frame) for a source URI, cut to [start, end]."""
    scheme, sep, rest = source.partition(":")
    if not sep or scheme not in SCHEMES:
        raise DataError(
            f"data source {source!r}: unknown scheme; use one of "
            "sample:NAME, csv:PATH, parquet:PATH, synthetic:gbm?bars=N&seed=S"
        )
    if scheme == "sample":
        path = sample_path(rest)
        name = rest.strip().upper()
        frame = _read_csv(path, source)
    elif scheme == "csv":
        path = _resolve(rest, base_dir, source)
        name = path.stem
        frame = _read_csv(path, source)
    elif scheme == "parquet":
        path = _resolve(rest, base_dir, source)
        name = path.stem
        frame = _read_parquet(path, source)
    else:
        spec = parse_gbm_query(source, rest)
        name = "GBM"
        frame = normalize_frame(gbm_frame(spec), Origin(source))
    if start is not None or end is not None:
        frame = window(frame, start, end)
        if frame.empty:
            raise DataError(
                f"{source}: no bars between start={start} and end={end}; widen the window "
                "(data.start / data.end)"
            )
    return (symbol or name), frame


def load_market_data(
    configs: Sequence[DataConfig], base_dir: Path | None
) -> tuple[MarketData, dict[str, str]]:
    """Read-only bars for every config plus a symbol → fingerprint map (sorted by symbol)."""
    if not configs:
        raise DataError("no data configured; set data.source (e.g. sample:GOOG)")
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
    return MarketData(bars), {k: prints[k] for k in sorted(prints)}
