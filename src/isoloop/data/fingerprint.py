"""Content fingerprints of market data, recorded in every run's manifest.

The hash covers only values in a fixed layout (nanosecond int64 index, then the
five OHLCV float64 columns, all little-endian), so it does not depend on column
order, pandas version, dtype backends or `PYTHONHASHSEED`. Extra columns (P/E,
funding rate, ...) follow in a second block, sorted by name, each with its name;
data without extra columns has no second block, so its fingerprint is the one
it always had.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from isoloop.data.bars import OHLCV_COLUMNS, Bars, extra_columns

__all__ = ["fingerprint"]

_LAYOUT = b"isoloop-ohlcv-v1"
_EXTRA_LAYOUT = b"isoloop-extra-v1"


def _columns(
    data: pd.DataFrame | Bars,
) -> tuple[np.ndarray, list[np.ndarray], list[tuple[str, np.ndarray]]]:
    if isinstance(data, Bars):
        ohlcv = [data.open, data.high, data.low, data.close, data.volume]
        return data.index, ohlcv, list(data.extra.items())
    index = pd.DatetimeIndex(data.index)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    ohlcv = [data[c].to_numpy() for c in OHLCV_COLUMNS]
    return index.as_unit("ns").to_numpy(), ohlcv, extra_columns(data)


def _length_prefixed(digest: hashlib._Hash, raw: bytes) -> None:
    digest.update(np.int64(len(raw)).astype("<i8").tobytes())
    digest.update(raw)


def fingerprint(data: pd.DataFrame | Bars) -> str:
    """SHA-256 hex digest of the bars' timestamps, OHLCV values and extra columns."""
    index, columns, extra = _columns(data)
    digest = hashlib.sha256(_LAYOUT)
    digest.update(np.int64(len(index)).astype("<i8").tobytes())
    stamps = index.astype("datetime64[ns]").view("int64")
    digest.update(np.ascontiguousarray(stamps, dtype="<i8").tobytes())
    for col in columns:
        digest.update(np.ascontiguousarray(col, dtype="<f8").tobytes())
    if extra:
        # Names are length-prefixed so ("PE", "x") and ("P", "Ex") cannot collide.
        digest.update(_EXTRA_LAYOUT)
        digest.update(np.int64(len(extra)).astype("<i8").tobytes())
        for name, values in sorted(extra, key=lambda item: item[0]):
            _length_prefixed(digest, name.encode("utf-8"))
            digest.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
    return digest.hexdigest()
