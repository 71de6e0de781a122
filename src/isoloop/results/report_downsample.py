"""How a report keeps long series small: the stated downsampling rules.

Lines (equity, drawdown, indicators, buy-and-hold) keep each bucket's minimum
and maximum plus the first and last point, so drawdown troughs and price
extremes survive. Candles are aggregated per bucket of consecutive bars the way
a longer bar would be: the first open, the highest high, the lowest low, the
last close, and the summed volume, stamped with the bucket's first bar's time.
Trade markers are never dropped.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["MAX_CANDLES", "MAX_POINTS", "aggregate_candles", "decimate"]

#: Above this many points a line is decimated (min/max per bucket).
MAX_POINTS = 20_000
#: Above this many bars candles are aggregated into at most this many.
MAX_CANDLES = 3_000


def decimate(values: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Sorted positions to keep: each bucket's min and max, plus the first and last point."""
    arr = np.asarray(values, dtype="float64")
    n = arr.size
    if n <= max_points:
        return np.arange(n)
    bucket = math.ceil(n / max(1, max_points // 2))
    full = (n // bucket) * bucket
    body = np.where(np.isnan(arr[:full]), np.inf, arr[:full]).reshape(-1, bucket)
    starts = np.arange(0, full, bucket)
    lows = starts + body.argmin(axis=1)
    highs = starts + np.where(np.isinf(body), -np.inf, body).argmax(axis=1)
    keep = [lows, highs, np.array([0, n - 1])]
    if full < n:
        tail = arr[full:]
        if np.isnan(tail).all():
            keep.append(np.array([full]))
        else:
            keep.extend([np.array([full + np.nanargmin(tail), full + np.nanargmax(tail)])])
    return np.unique(np.concatenate(keep))


def aggregate_candles(
    ohlc: pd.DataFrame, max_candles: int = MAX_CANDLES
) -> tuple[pd.DataFrame, int]:
    """`(candles, bars per candle)`: `ohlc` itself when short, else OHLCV per bucket.

    Buckets are runs of `ceil(n / max_candles)` consecutive bars (the last one may
    be shorter). Volume is summed (NaN only when the whole bucket has none).
    """
    n = len(ohlc)
    if n <= max_candles:
        return ohlc, 1
    bucket = math.ceil(n / max_candles)
    starts = np.arange(0, n, bucket)
    ends = np.minimum(starts + bucket, n) - 1
    high = ohlc["High"].to_numpy(dtype="float64")
    low = ohlc["Low"].to_numpy(dtype="float64")
    data: dict[str, np.ndarray] = {
        "Open": ohlc["Open"].to_numpy(dtype="float64")[starts],
        "High": np.fmax.reduceat(high, starts),
        "Low": np.fmin.reduceat(low, starts),
        "Close": ohlc["Close"].to_numpy(dtype="float64")[ends],
    }
    if "Volume" in ohlc.columns:
        volume = ohlc["Volume"].to_numpy(dtype="float64")
        summed = np.add.reduceat(np.nan_to_num(volume), starts)
        seen = np.add.reduceat((~np.isnan(volume)).astype(np.int64), starts)
        data["Volume"] = np.where(seen > 0, summed, np.nan)
    return pd.DataFrame(data, index=pd.DatetimeIndex(ohlc.index)[starts]), bucket
