"""The live container's clock: simulated time in replay, real time otherwise.

It keeps the engine's clock shape (`market`, `bar`, `now`, `sleep`) so the
execution manager, risk manager and venues run unchanged; `bar` is the index
of the last bar the container processed.
"""

from __future__ import annotations

import time

from isoloop.config.models import RunConfig
from isoloop.data.bars import MarketData
from isoloop.engine.clock import SimulatedClock
from isoloop.live.config import LiveConfig

__all__ = ["LiveClock"]


class LiveClock(SimulatedClock):
    def __init__(self, market_data: MarketData, config: RunConfig, live: LiveConfig) -> None:
        super().__init__(market_data, config)
        self.simulated = live.simulated_clock

    def now(self) -> float:
        return super().now() if self.simulated else time.time()

    def sleep(self, seconds: float) -> None:
        # Reconciliation backoff: simulated in replay (deterministic), real otherwise.
        self.slept += seconds
        if not self.simulated:
            time.sleep(seconds)
