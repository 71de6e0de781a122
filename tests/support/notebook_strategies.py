"""A strategy in an importable module, for the notebook API's `.optimize()` tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from isoloop.engine.strategy import Strategy


class Breakout(Strategy):
    """Long above the `lookback`-bar high, flat below the `lookback`-bar low (whole units)."""

    def validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"lookback": int(params.get("lookback", 20)), "size": int(params.get("size", 10))}

    def init(self) -> None:
        n = self.params["lookback"]
        close = np.asarray(self.data.close, dtype="float64")
        hi = np.full(len(close), np.nan)
        lo = np.full(len(close), np.nan)
        for i in range(n, len(close)):
            window = close[i - n : i]
            hi[i], lo[i] = window.max(), window.min()
        self.close_ = close.tolist()
        self.hi, self.lo = hi.tolist(), lo.tolist()
        self.warmup = n

    def on_bar(self, i: int) -> None:
        if self.close_[i] > self.hi[i] and self.position() <= 0:
            self.buy(self.params["size"])
        elif self.close_[i] < self.lo[i] and self.position() > 0:
            self.close()
