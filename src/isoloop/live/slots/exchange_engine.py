"""The live `engine` slot for bars that did not exist when the container was built.

With `feed.mode: exchange` the shared market data is preallocated and filled by the
feed as candles close (see `isoloop.live.exchange_feed`). The container's market view
turned the rows into per-bar lists when it was built; before processing bar `i` this
engine copies the rows the feed has written since into those lists (the same list
objects the venue, books and risk read) and runs the strategy's `init()` again, so
indicators computed there cover bar `i`: what a backtest computing them over all the
bars sees at `i`. `init()` must therefore only compute from the data and its params
(as in backtesting.py); state `on_bar` changes belongs outside `init()`.

In replay mode it is the plain `LiveEngine`, so a blueprint can use it in both.
"""

from __future__ import annotations

from isoloop.engine.indicators import _REGISTRY
from isoloop.live.feed import FeedBar
from isoloop.live.slots.engine import LiveEngine

__all__ = ["ExchangeFeedEngine"]

_COLUMNS = ("open", "high", "low", "close", "volume")


class ExchangeFeedEngine(LiveEngine):
    # Rows of the shared data already copied into this container's lists (an int per
    # instance once set; the class value is only the starting point).
    synced_rows: int = 0

    def step(self, bar: FeedBar) -> None:
        if self._live.feed.mode == "exchange":
            self._catch_up(bar.bar)
        super().step(bar)

    def _catch_up(self, i: int) -> None:
        lo, hi = self.synced_rows, i + 1
        if hi <= lo:
            return
        for sym in self._clock.market.symbols.values():
            for name in _COLUMNS:
                rows = getattr(sym, name)[lo:hi].tolist()
                # In place: the venue, books and risk hold these very list objects.
                getattr(sym, f"{name}_l")[lo:hi] = rows
        self.synced_rows = hi
        strategy = self._strategy
        # init() declares its indicators again: drop the previous declarations first.
        vars(strategy).pop(_REGISTRY, None)
        strategy.init()
        self.first_bar = 1 + int(strategy.warmup)
