"""The run's clock. In a backtest time is the current bar plus simulated waiting.

`sleep` never blocks in a backtest: it advances simulated time, so retries with
exponential backoff cost nothing in wall-clock time and stay deterministic.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr

from isoloop.data.bars import MarketData
from isoloop.data.sources import source_symbol
from isoloop.engine.health import Health, health
from isoloop.engine.market import MarketView

if TYPE_CHECKING:
    from isoloop.config.models import RunConfig

__all__ = ["SimulatedClock", "WallClock"]


@mypyc_attr(allow_interpreted_subclasses=True)
class SimulatedClock:
    """Bar-driven time over the run's `MarketView`; `bar` is the current clock bar.

    The primary symbol is `data:`'s (its `symbol`, else the name its source gives);
    `data.clock` picks the bars the run steps through (see `MarketView`).

    Compiled (tools/compile.py): the bar loop sets `bar` on every bar and the tight
    loop reads `bar` and `slept` several times per order, each a struct field then.
    The live clock subclasses it in Python (allowed above).
    """

    def __init__(
        self,
        market_data: MarketData,
        config: RunConfig | None = None,
        primary: str | None = None,
        clock: str | None = None,
    ) -> None:
        if primary is None and config is not None:
            primary = config.data.symbol
            if primary is None:
                # The name `data.source` gives its bars; shared data keyed otherwise (a
                # test's or a benchmark's) keeps the old rule: the first symbol.
                named = source_symbol(config.data.source)
                primary = named if named in market_data else None
        if clock is None:
            clock = config.data.clock if config is not None else "primary"
        self.market = MarketView(market_data, primary, clock)
        self.bar = -1
        self.slept = 0.0
        self.n_bars = len(self.market)

    def now(self) -> float:
        """Seconds since the epoch: the current bar's time plus simulated waiting."""
        base = self.market.time_ns[self.bar] / 1e9 if self.bar >= 0 else 0.0
        return base + self.slept

    def sleep(self, seconds: float) -> None:
        self.slept += seconds

    def health(self) -> Health:
        return health("healthy", bar=self.bar, n_bars=self.n_bars, slept=self.slept)


class WallClock:
    """Real time for live containers; `bar` counts ticks."""

    def __init__(self) -> None:
        self.bar = -1
        self.slept = 0.0

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        time.sleep(seconds)
