"""Quick version of the 100k-scope memory benchmark (benchmarks/container_lifecycle.py).

The dependency-injector failure mode we guard against keeps every run's objects
alive (shared providers registering overrides), which shows up as a growing
number of live objects and RSS. Timing flatness is checked in the benchmark.
"""

from __future__ import annotations

import gc
from pathlib import Path

import psutil

from isoloop.data.bars import MarketData
from isoloop.scope import ScopeCoordinator, SharedServices

STANDARD = Path(__file__).parents[2] / "support" / "blueprints" / "standard.yaml"


def test_ten_thousand_scopes_leave_nothing_behind() -> None:
    coord = ScopeCoordinator(SharedServices(market_data=MarketData({})))

    def cycle(n: int) -> None:
        for _ in range(n):
            with coord.scope(STANDARD, config={"journal": []}) as run:
                run.start()

    cycle(500)  # warm-up: pools, caches, lazily imported modules
    gc.collect()
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    objects0 = len(gc.get_objects())
    cycle(10_000)
    gc.collect()
    grown_objects = len(gc.get_objects()) - objects0
    grown_rss = proc.memory_info().rss - rss0
    # A leak of even one object per scope would show 10,000 here.
    assert grown_objects < 200, grown_objects
    assert grown_rss < 5 * 1024 * 1024, grown_rss
