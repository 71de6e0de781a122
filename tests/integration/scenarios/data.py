"""The scenarios' bars: backtesting.py's bundled samples (read at test time) and small series.

Every factory returns a fresh frame, so no run can see another's edits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from backtesting.lib import OHLCV_AGG
from backtesting.test import BTCUSD, EURUSD, GOOG


def goog() -> pd.DataFrame:
    return GOOG.copy()


def goog20() -> pd.DataFrame:
    """The first 20 GOOG bars: short enough for per-bar scripts, no indicator lag."""
    return GOOG.iloc[:20].copy()


def goog100() -> pd.DataFrame:
    return GOOG.iloc[:100].copy()


def goog_weekly() -> pd.DataFrame:
    return GOOG.resample("W").agg(OHLCV_AGG).dropna()


def eurusd() -> pd.DataFrame:
    return EURUSD.copy()


def btcusd() -> pd.DataFrame:
    return BTCUSD.copy()


def flat_bars(closes: Sequence[float], opens: Sequence[float] | None = None) -> pd.DataFrame:
    """Daily bars from closes (open = high = low = close unless `opens` are given)."""
    close = np.asarray(closes, dtype="float64")
    open_ = close if opens is None else np.asarray(opens, dtype="float64")
    return pd.DataFrame(
        {
            "Open": open_,
            "High": np.maximum(open_, close),
            "Low": np.minimum(open_, close),
            "Close": close,
            "Volume": 1_000.0,
        },
        index=pd.date_range("2021-01-04", periods=close.size, freq="D"),
    )
