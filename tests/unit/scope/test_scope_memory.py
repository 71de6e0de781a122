"""Quick version of the 100k-scope memory benchmark (benchmarks/container_lifecycle.py).

The dependency-injector failure mode we guard against keeps every run's objects
alive (shared providers registering overrides), which shows up as a growing
number of live objects and RSS. Timing flatness is checked in the benchmark.

The cycles run in a fresh interpreter (this file as a script): in a test worker
that has run hundreds of other tests, freed heap from earlier tests and their
threads moves RSS by megabytes either way, which says nothing about scopes.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import psutil

from isoloop.data.bars import MarketData
from isoloop.scope import ScopeCoordinator, SharedServices

STANDARD = Path(__file__).parents[2] / "support" / "blueprints" / "standard.yaml"


def _measure() -> dict[str, int]:
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
    return {
        "objects": len(gc.get_objects()) - objects0,
        "rss": proc.memory_info().rss - rss0,
        "scopes": 10_000,
    }


def test_ten_thousand_scopes_leave_nothing_behind() -> None:
    tests_dir = str(Path(__file__).parents[2])  # the blueprint's parts live in support/
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([tests_dir, os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, __file__],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    grown = json.loads(done.stdout.strip().splitlines()[-1])
    assert grown["scopes"] == 10_000  # the cycles ran
    # A leak of even one object per scope would show 10,000 here.
    assert grown["objects"] < 200, grown
    assert grown["rss"] < 5 * 1024 * 1024, grown


if __name__ == "__main__":
    print(json.dumps(_measure()))
