"""`from isoloop.compat.backtesting.test import GOOG, SMA`: sample bars and a moving average.

GOOG, EURUSD and BTCUSD are read at access time from the installed `backtesting`
package (isoloop ships no copy of that AGPL data); without it, the access
raises a `DataError` naming what to install. `SMA` is isoloop's own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from isoloop.data.sources import sample_path

# GOOG, EURUSD and BTCUSD are module attributes served by `__getattr__` below.
__all__ = ["BTCUSD", "EURUSD", "GOOG", "SMA"]  # noqa: F822

_SAMPLES = ("GOOG", "EURUSD", "BTCUSD")


def SMA(values: Any, n: int) -> np.ndarray:  # noqa: N802 - the name strategies import
    """Simple moving average over `n` bars (NaN for the first n-1)."""
    return np.asarray(pd.Series(np.asarray(values, dtype=np.float64)).rolling(n).mean())


def __getattr__(name: str) -> pd.DataFrame:
    if name in _SAMPLES:
        # Read per access (a few ms): no module-level cache, no state shared between runs.
        return pd.read_csv(sample_path(name), index_col=0, parse_dates=True)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
