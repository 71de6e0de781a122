"""Per-trial executor overhead: a no-op trial run many times on each executor (2 workers).

The trial touches the shared bars once and returns, so the time a map takes per trial
is what the executor itself costs: submitting, transporting, collecting, recording
nothing else. Each executor is warmed up first (workers started, data shared), then
timed over `--trials` trials `--repeats` times; the median is reported.

Two in-flight settings are shown for dask and ray: the executor's own default
(`max_in_flight=None`, which lets it batch trials into chunks) and `2 × workers` (what
the sweep driver passed before it left the window to the executor). Each executor also
runs a whole no-op sweep through the sweep driver (SQLite store included), as `isoloop
sweep` would.

    .venv/bin/python benchmarks/executor_overhead.py [--trials 2000] [--repeats 5] [--write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# Worker processes (process pool, Dask nannies, Ray's raylet) import `_bench_trials` too.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
warnings.filterwarnings("ignore")

from _bench_trials import noop_trial  # noqa: E402
from _results import write_section  # noqa: E402
from isoloop.sweep import make_executor  # noqa: E402
from isoloop.sweep.spec import TrialSpec  # noqa: E402

WORKERS = 2


def _data() -> Any:
    from backtesting.test import GOOG

    from isoloop.data.bars import Bars, MarketData

    return MarketData({"GOOG": Bars.from_frame(GOOG, "GOOG")})


def _specs(n: int) -> list[TrialSpec]:
    return [TrialSpec(i, {"i": i}, i) for i in range(n)]


def _time_map(executor: Any, handle: Any, n: int, max_in_flight: int | None) -> float:
    """Seconds per trial for one map of `n` no-op trials (every result checked ok)."""
    started = time.perf_counter()
    results = list(executor.map(noop_trial, iter(_specs(n)), handle, max_in_flight=max_in_flight))
    elapsed = time.perf_counter() - started
    assert len(results) == n and all(r.status == "ok" for r in results), "a no-op trial failed"
    assert sorted(r.trial_id for r in results) == list(range(n))
    return elapsed / n


def _time_sweep(executor: Any, n: int, run: int) -> float:
    """Seconds per trial of a whole sweep of `n` no-op trials through the sweep driver, as
    `isoloop sweep` runs it (default in-flight window, each result stored in SQLite)."""
    from isoloop.sweep import GridSearch, SearchSpace, run_generic_sweep

    space = {"i": {"range": [0, n, 1]}, "run": [run]}  # `run`: a new sweep key each time
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        out = run_generic_sweep(
            noop_trial,
            _data(),
            search=GridSearch(SearchSpace.from_mapping(space), None),
            executor=executor,
            definition={"space": space, "search": {"method": "grid"}},
            base_seed=1,
            metric="sharpe_ratio",
            store=Path(tmp) / "sweep.sqlite",
        )
        elapsed = time.perf_counter() - started
    assert out.done == n and out.failed == 0, "a no-op trial failed"
    return elapsed / n


def measure(kind: str, trials: int, repeats: int, caps: list[int | None]) -> dict[str, float]:
    """Median seconds per trial for each in-flight cap, and through the sweep driver."""
    out: dict[str, float] = {}
    with make_executor(kind, workers=WORKERS) as executor:
        handle = executor.share(_data())
        _time_map(executor, handle, min(trials, 200), None)  # warm: workers up, data loaded
        for cap in caps:
            samples = [_time_map(executor, handle, trials, cap) for _ in range(repeats)]
            out["default" if cap is None else f"cap {cap}"] = statistics.median(samples)
        samples = [_time_sweep(executor, trials, r) for r in range(repeats)]
        out["sweep driver"] = statistics.median(samples)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kinds", default="serial,process,dask,ray")
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    args = parser.parse_args()
    rows: list[tuple[str, str, float]] = []
    for kind in args.kinds.split(","):
        caps: list[int | None] = [None, 2 * WORKERS] if kind in ("dask", "ray") else [None]
        for setting, per_trial in measure(kind, args.trials, args.repeats, caps).items():
            rows.append((kind, setting, per_trial))
            print(f"{kind:8} {setting:8} {per_trial * 1e3:8.3f} ms/trial", flush=True)
    if args.write:
        lines = [
            "## Executor overhead per trial (`benchmarks/executor_overhead.py`)",
            "",
            f"A no-op trial (touches the shared GOOG bars, returns one stat) run "
            f"{args.trials} times per map on {WORKERS} workers; median of {args.repeats} "
            "maps after a warm-up map. Per trial = wall time of the map / trials: what the "
            "executor costs a sweep per trial. `default` lets the executor choose how many "
            "trials are in flight (dask and ray batch them into chunks); `cap 4` is "
            "`max_in_flight=4`, what the sweep driver passed when `executor.max_in_flight` "
            "was unset until issue 15's last change. `sweep driver` is a whole sweep of as "
            "many no-op trials through `run_generic_sweep`, as `isoloop sweep` runs one "
            "(the executor's default window, each result written to the SQLite store, "
            "progress kept): the overhead a user's sweep pays per trial.",
            "",
            "| executor | in flight | ms per trial |",
            "|---|---|---:|",
            *(f"| {k} | {s} | {t * 1e3:.3f} |" for k, s, t in rows),
        ]
        write_section("executor-overhead", "\n".join(lines))


if __name__ == "__main__":
    main()
