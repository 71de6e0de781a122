"""A long sweep on 2 workers: is the time per trial flat, does the driver's memory grow?

`--trials` backtests (default 100,000) of SmaCross on 100 synthetic bars — the grid
fast ∈ {5, 10} × slow ∈ {20, 30} × an ignored `rep` parameter, so every trial costs the
same — through `isoloop.run_sweep` with the process executor, 2 workers, no store. The
driver's progress callback stamps the time and the driver's RSS as each tenth of the
trials finishes; the table is the time per trial of each tenth and the RSS growth.

Usage: python benchmarks/sweep_scale.py [--trials 100000] [--workers 2] [--no-write]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]
)

import psutil  # noqa: E402

import isoloop  # noqa: E402
from _results import write_section  # noqa: E402


def sweep(trials: int, workers: int) -> dict[str, Any]:
    reps = trials // 4
    config = {
        "kind": "sweep",
        "base": {
            "strategy": {"class": "_bench_strategies:SmaCrossRep", "params": {}},
            "data": {"source": "synthetic:gbm?bars=100&seed=7"},
            "venue": {"cash": 10_000, "commission": 0.0},
        },
        "space": {"fast": [5, 10], "slow": [20, 30], "rep": {"range": [0, reps, 1]}},
        "objective": {"metric": "sharpe_ratio"},
        "executor": {"kind": "process", "workers": workers},
    }
    total = 4 * reps
    me = psutil.Process()
    marks = [total * k // 10 for k in range(1, 11)]
    stamps: list[tuple[int, float, float]] = []  # (done, seconds, driver RSS MB)
    cpu_marks: list[float] = []

    def cpu_now() -> float:
        """CPU seconds of the driver and its live workers: unlike wall time, not
        stretched by whatever else the shared machine runs meanwhile."""
        total_cpu = time.process_time()
        for child in me.children(recursive=True):
            try:
                c = child.cpu_times()
                total_cpu += c.user + c.system
            except psutil.Error:
                pass
        return total_cpu

    def progress(done: int, failed: int, running: int, total_: int, best: Any) -> None:
        while marks and done >= marks[0]:
            stamps.append((marks.pop(0), time.perf_counter(), me.memory_info().rss / 2**20))
            cpu_marks.append(cpu_now())

    rss0 = me.memory_info().rss / 2**20
    cpu0 = cpu_now()
    t0 = time.perf_counter()
    result = isoloop.run_sweep(config, on_progress=progress)
    wall = time.perf_counter() - t0
    assert result.done == total and result.failed == 0, (result.done, result.failed)
    rss_end = me.memory_info().rss / 2**20
    starts = [(0, t0)] + [(d, t) for d, t, _ in stamps[:-1]]
    per_trial = [
        (t - t_prev) / (d - d_prev)
        for (d_prev, t_prev), (d, t, _) in zip(starts, stamps, strict=True)
    ]
    cpus = [cpu0, *cpu_marks]
    tenth = total / 10
    return {
        "cpu_ms": [(b - a) / tenth * 1e3 for a, b in itertools.pairwise(cpus)],
        "total": total,
        "wall": wall,
        "per_trial_ms": [x * 1e3 for x in per_trial],
        "rss0": rss0,
        "rss": [r for _, _, r in stamps],
        "rss_end": rss_end,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    out = sweep(args.trials, args.workers)
    tenths = out["per_trial_ms"]
    rss = out["rss"]
    print(f"{out['total']:,} trials in {out['wall']:.1f} s")
    print("ms per trial by tenth:", [round(x, 3) for x in tenths])
    print("CPU ms per trial by tenth:", [round(x, 3) for x in out["cpu_ms"]])
    print(f"driver RSS MB: start {out['rss0']:.1f}, by tenth {[round(r, 1) for r in rss]}")
    if args.no_write:
        return
    first, last = tenths[0], tenths[-1]
    cpu = out["cpu_ms"]
    body = f"""## A long sweep (`benchmarks/sweep_scale.py`)

{out["total"]:,} trials of SmaCross on 100 synthetic bars (fast ∈ {{5, 10}} × slow ∈
{{20, 30}} × an ignored `rep`, so every trial costs the same), `isoloop.run_sweep`,
process executor, {args.workers} workers, no store; one run, **{out["wall"]:.0f} s**
wall ({out["wall"] / out["total"] * 1e3:.2f} ms per trial overall, worker start included).

| tenth of the trials | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 |
|---|{"---:|" * 10}
| wall ms per trial | {" | ".join(f"{x:.2f}" for x in tenths)} |
| CPU ms per trial (driver + workers) | {" | ".join(f"{x:.2f}" for x in out["cpu_ms"])} |
| driver RSS MB at its end | {" | ".join(f"{r:.0f}" for r in rss)} |

- CPU per trial, last tenth / first tenth: **{cpu[-1] / cpu[0]:.2f}** (the work a trial
  costs, driver and workers; the wall time per tenth follows the machine's load, which
  varied during the run: last / first {last / first:.2f}, first {first:.2f} ms including
  the workers' start, median of all tenths {statistics.median(tenths):.2f} ms).
- Driver RSS: {out["rss0"]:.0f} MB before the sweep, {rss[0]:.0f} MB after the first
  tenth, {rss[-1]:.0f} MB at the end (+{rss[-1] - rss[0]:.0f} MB over the last nine
  tenths, which includes the trials table the driver keeps: one row per trial)."""
    write_section("sweep_scale", body)


if __name__ == "__main__":
    main()
