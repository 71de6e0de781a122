"""The exchange feed's test strategy and blueprint: indicators computed once in `init()`
over the whole close array (as backtesting.py strategies do), fixed order sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from isoloop.engine.strategy import Strategy
from support.exchange_live import ccxt_blueprint

ENGINE = "isoloop.live.slots.exchange_engine:ExchangeFeedEngine"


class SmaUnits(Strategy):
    """0.25 units long when the 2-bar mean crosses above the 5-bar mean, short below
    (perp: no holdings needed). Every signal comes from arrays computed in `init()`."""

    def init(self) -> None:
        close = pd.Series(np.asarray(self.data.close))
        fast = close.rolling(2).mean().to_numpy()
        slow = close.rolling(5).mean().to_numpy()
        above = fast > slow
        below = fast < slow
        self._up: list[bool] = (above & np.roll(below, 1)).tolist()
        self._down: list[bool] = (below & np.roll(above, 1)).tolist()
        self.warmup = 5

    def on_bar(self, i: int) -> None:
        kw: dict[str, Any] = {"units": 0.25, "position_type": "perp"}
        if self._up[i]:
            self.buy(**kw)
        elif self._down[i]:
            self.sell(**kw)


def feed_blueprint(folder: Path) -> Path:
    """The ccxt test blueprint; the shipped live blueprints' engine takes bars the feed
    adds later."""
    path = ccxt_blueprint(folder)
    assert f"engine: {ENGINE}" in path.read_text(encoding="utf-8")
    return path


def plain_engine_blueprint(folder: Path) -> Path:
    """The ccxt test blueprint with the replay-only engine (`LiveEngine`)."""
    path = ccxt_blueprint(folder)
    text = path.read_text(encoding="utf-8")
    plain = text.replace(f"engine: {ENGINE}", "engine: isoloop.live.slots.engine:LiveEngine")
    assert plain != text
    path.write_text(plain, encoding="utf-8")
    return path
