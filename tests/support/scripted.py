"""A strategy that places scripted orders at given bars (for fill-rule tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from isoloop.engine import Strategy


class Scripted(Strategy):
    """params: {"script": {bar: callable(strategy)}}; placed orders land in `self.placed`."""

    def init(self) -> None:
        self.placed: list[Any] = []
        self.script: dict[int, Callable[[Scripted], Any]] = self.params.get("script", {})

    def on_bar(self, i: int) -> None:
        action = self.script.get(i)
        if action is not None:
            result = action(self)
            if result is not None:
                self.placed.append(result)


def frame(rows: list[tuple[float, float, float, float, float]], freq: str = "D") -> pd.DataFrame:
    """Bars from (open, high, low, close, volume) rows."""
    arr = np.asarray(rows, dtype=float)
    index = pd.date_range("2024-01-01 10:00", periods=len(rows), freq=freq)
    return pd.DataFrame(arr, columns=["Open", "High", "Low", "Close", "Volume"], index=index)
