"""Content fingerprints of market data, recorded in every run's manifest.

The hash covers only values in a fixed layout (nanosecond int64 index, then the
five OHLCV float64 columns, all little-endian), so it does not depend on column
order, pandas version, dtype backends or `PYTHONHASHSEED`.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from isoloop.data.bars import OHLCV_COLUMNS, Bars

__all__ = ["fingerprint"]

_LAYOUT = b"isoloop-ohlcv-v1"


def _columns(data: pd.DataFrame | Bars) -> tuple[np.ndarray, list[np.ndarray]]:
    if isinstance(data, Bars):
        return data.index, [data.open, data.high, data.low, data.close, data.volume]
    index = pd.DatetimeIndex(data.index)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.as_unit("ns").to_numpy(), [data[c].to_numpy() for c in OHLCV_COLUMNS]


def fingerprint(data: pd.DataFrame | Bars) -> str:
    """SHA-256 hex digest of the bars' timestamps and OHLCV values."""
    index, columns = _columns(data)
    digest = hashlib.sha256(_LAYOUT)
    digest.update(np.int64(len(index)).astype("<i8").tobytes())
    stamps = index.astype("datetime64[ns]").view("int64")
    digest.update(np.ascontiguousarray(stamps, dtype="<i8").tobytes())
    for col in columns:
        digest.update(np.ascontiguousarray(col, dtype="<f8").tobytes())
    return digest.hexdigest()
