"""Per-order, per-bar and fixed per-trial cost of an isoloop backtest, in µs.

Every run goes through the path a sweep trial takes (`isoloop.sweep.trial.BacktestTrial`:
the trial's config validated from JSON, a fresh run scope from the worker's cached
`BacktestCoordinator`, stats and digest), on synthetic GBM bars already in memory:

  * per bar (no order): (a `NoOrders` run on N bars - the same on 100 bars) / (N - 100);
  * per order: (an `OrderEveryBar` run on N bars - a `NoOrders` run on the same bars)
    / the orders it placed (one market order per bar, each through the tight loop);
  * fixed per trial: a 100-bar trial, `NoOrders` and `SmaCross(5, 20)`;
  * the engine figure: 200,000 one-minute bars written to CSV, SmaCross 20/40 (about
    5,600 trades) with no commission, the CSV load included in both isoloop (`isoloop.run_backtest` on a
    `csv:` source) and backtesting.py (`pd.read_csv` + `Backtest.run`).

`--tag before` runs the same script against an older tree (PYTHONPATH=<tree>/src) and
`--tag pure` against this tree's pure-Python fallback (PYTHONPATH=<a copy of src/ without
the compiled extensions>); each writes its figures to a JSON file beside the compiled
run's, so all land in one table; run them alternately (pure, compiled, pure, compiled)
and `--write-only` writes the median of every run of each tree.

Usage: python benchmarks/costs.py [--bars 50000] [--order-bars 5000] [--reps 5] [--tag after|before|pure]
       [--no-engine] [--no-write] [--write-only]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("TQDM_DISABLE", "1")

import isoloop  # noqa: E402
from isoloop.backtest.run import BacktestCoordinator  # noqa: E402
from isoloop.config import RunConfig  # noqa: E402
from isoloop.data import load_market_data  # noqa: E402
from isoloop.scope import SharedServices  # noqa: E402
from isoloop.sweep.spec import TrialSpec  # noqa: E402
from isoloop.sweep.trial import BacktestTrial, TrialBase  # noqa: E402

# CPU time of this process, not wall time: every figure here runs in this one process, and
# on a shared, oversubscribed machine the wall clock mostly measures the other processes.
CLOCK = time.process_time
SAVED = Path(tempfile.gettempdir()) / "isoloop-bench-costs"
# The process worker freezes the collector after its first trial since issue 15's
# compiled build; an older tree's workers do not, so neither does its figure here.
FREEZE = "gc.freeze()" in (Path(isoloop.__file__).parent / "sweep/executors/process.py").read_text()


def config(strategy: str, bars: int, params: dict[str, Any] | None = None) -> RunConfig:
    return RunConfig.model_validate(
        {
            "strategy": {"class": strategy, "params": params or {}},
            "data": {"source": f"synthetic:gbm?bars={bars}&seed=7"},
            "venue": {"cash": 1_000_000, "commission": 0.0},
        }
    )


class TrialTimer:
    """Times one trial config through `BacktestTrial`, as a sweep worker runs it."""

    def __init__(self, cfg: RunConfig) -> None:
        self.md, prints = load_market_data([cfg.data], None)
        self.base = TrialBase.of(cfg, prints)
        self.trial = BacktestTrial()
        self.cfg, self.prints = cfg, prints
        self.n = 0

    def once(self) -> float:
        self.n += 1
        spec = TrialSpec(self.n, {}, 0)
        t0 = CLOCK()
        self.trial(spec, self.md, self.base)
        return CLOCK() - t0

    def median(self, reps: int) -> float:
        self.once()  # warm: the worker's coordinator, imports, the strategy class
        # As a process worker does after its first trial (where the tree has it): what is
        # alive now lives for the worker's lifetime, out of the garbage collector's sight.
        if FREEZE:
            gc.collect()
            gc.freeze()
        return statistics.median(self.once() for _ in range(reps))

    def orders(self) -> int:
        coordinator = BacktestCoordinator(
            SharedServices(market_data=self.md, fingerprints=dict(self.prints))
        )
        try:
            return len(coordinator.run_backtest(self.cfg, run_id="count").orders)
        finally:
            coordinator.close()


def costs(bars: int, order_bars: int, reps: int) -> dict[str, float]:
    none_small = TrialTimer(config("_bench_strategies:NoOrders", 100))
    none_big = TrialTimer(config("_bench_strategies:NoOrders", bars))
    none_mid = TrialTimer(config("_bench_strategies:NoOrders", order_bars))
    every_mid = TrialTimer(config("_bench_strategies:OrderEveryBar", order_bars))
    sma_small = TrialTimer(
        config("isoloop.examples.sma_cross:SmaCross", 100, {"fast": 5, "slow": 20})
    )
    timers = {
        "small": none_small,
        "big": none_big,
        "mid": none_mid,
        "every": every_mid,
        "sma": sma_small,
    }
    # Interleaved rounds, so a noisy moment on the shared machine hits every figure alike.
    rounds: dict[str, list[float]] = {k: [] for k in timers}
    for t in timers.values():
        t.once()
    for _ in range(reps):
        for k, t in timers.items():
            rounds[k] += [t.once() for _ in range(5 if k in ("small", "sma") else 1)]
    med = {k: statistics.median(v) for k, v in rounds.items()}
    orders = every_mid.orders()
    return {
        "bars": bars,
        "order_bars": order_bars,
        "orders": orders,
        "fixed_noorders_us": med["small"] * 1e6,
        "fixed_smacross_us": med["sma"] * 1e6,
        "per_bar_us": (med["big"] - med["small"]) / (bars - 100) * 1e6,
        "per_order_us": (med["every"] - med["mid"]) / orders * 1e6,
        "noorders_big_s": med["big"],
        "every_mid_s": med["every"],
    }


def minute_frame(bars: int, seed: int) -> Any:
    """Seeded one-minute GBM bars without drift (0.1 % per minute: prices stay in range)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(np.random.SeedSequence(seed))
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, bars)))
    open_ = np.empty(bars)
    open_[0] = 100.0
    open_[1:] = close[:-1] * np.exp(rng.normal(0.0, 0.0002, bars - 1))
    spread = np.abs(rng.normal(0.0, 0.0004, bars)) * close
    index = pd.date_range("2020-01-01", periods=bars, freq="min", name="Date")
    return pd.DataFrame(
        {
            "Open": open_,
            "High": np.maximum(open_, close) + spread,
            "Low": np.minimum(open_, close) - spread,
            "Close": close,
            "Volume": rng.integers(1_000, 100_000, bars).astype(np.float64),
        },
        index=index,
    )


def engine(bars: int, reps: int, fast: int, slow: int) -> dict[str, float]:
    """One-minute bars from CSV, SmaCross, no commission: isoloop vs backtesting.py."""
    import pandas as pd
    from backtesting import Backtest

    from _bench_trials import BtSmaCross

    bt_cls = type("BtCross", (BtSmaCross,), {"fast": fast, "slow": slow})

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gbm.csv"
        minute_frame(bars, 42).to_csv(path)
        run_cfg = {
            "strategy": {
                "class": "isoloop.examples.sma_cross:SmaCross",
                "params": {"fast": fast, "slow": slow},
            },
            "data": {"source": f"csv:{path}", "symbol": "GBM"},
            "venue": {"cash": 1_000_000, "commission": 0.0},
        }

        copies = iter(range(1_000_000))

        def iso() -> tuple[float, int, float]:
            # A fresh file each run: `run_backtest` keeps loaded data per process, keyed by
            # the file's path among others, and this figure is about loading it too.
            fresh = path.with_name(f"gbm-{next(copies)}.csv")
            shutil.copyfile(path, fresh)
            cfg = run_cfg | {"data": {"source": f"csv:{fresh}", "symbol": "GBM"}}
            t0 = CLOCK()
            r = isoloop.run_backtest(cfg)
            sec = CLOCK() - t0
            fresh.unlink()
            return sec, len(r.trades), float(r.equity.iloc[-1])

        def btpy() -> tuple[float, int, float]:
            t0 = CLOCK()
            df = pd.read_csv(path, index_col=0, parse_dates=True)
            s = Backtest(df, bt_cls, cash=1_000_000, finalize_trades=True).run()
            return CLOCK() - t0, int(s["# Trades"]), float(s["Equity Final [$]"])

        iso(), btpy()  # warm imports
        runs: dict[str, list[tuple[float, int, float]]] = {"iso": [], "bt": []}
        for _ in range(reps):  # interleaved
            runs["iso"].append(iso())
            runs["bt"].append(btpy())
    out: dict[str, float] = {"engine_bars": bars, "engine_fast": fast, "engine_slow": slow}
    for k, v in runs.items():
        out[f"engine_{k}_s"] = statistics.median(t for t, _, _ in v)
        out[f"engine_{k}_trades"] = v[0][1]
        out[f"engine_{k}_equity"] = v[0][2]
    out["engine_ratio"] = out["engine_bt_s"] / out["engine_iso_s"]
    return out


def fmt(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def write(
    after: dict[str, float], before: dict[str, float] | None, pure: dict[str, float] | None
) -> None:
    from _results import write_section

    b = before or {}
    p = pure or {}

    def row(name: str, key: str, digits: int = 1) -> str:
        old, mid, new = b.get(key), p.get(key), after.get(key)
        ratio = f"{old / new:.1f}×" if old and new else "—"
        compiled = f"{mid / new:.1f}×" if mid and new else "—"
        return (
            f"| {name} | {fmt(old, digits)} | {fmt(mid, digits)} | {fmt(new, digits)} | "
            f"{ratio} | {compiled} |"
        )

    fixed = after["fixed_noorders_us"]
    lines = [
        "## Per-order, per-bar and fixed per-trial cost (`benchmarks/costs.py`)",
        "",
        "Each run goes through the sweep trial path (`BacktestTrial`: config from JSON, a "
        "fresh run scope from the worker's cached coordinator, stats, digest) on synthetic "
        "GBM bars in memory; CPU time of the process (wall time on this shared, oversubscribed "
        "machine mostly measures the other processes), medians of interleaved rounds. Per bar: "
        "(`NoOrders` on "
        f"{after['bars']:,.0f} bars − on 100 bars) / {after['bars'] - 100:,.0f}. Per order: "
        f"(`OrderEveryBar` − `NoOrders`, both on {after['order_bars']:,.0f} bars) / "
        f"{after['orders']:,.0f} orders, each through the whole tight loop. Fixed: one "
        '100-bar trial. "Before" is the tree at 6903e8d (before issue 15\'s speed work; '
        f'{b.get("runs", 0):.0f} runs, an earlier session); "pure" this tree without its '
        "compiled modules (`--tag pure` with PYTHONPATH on a copy of `src/` without the "
        f'extensions: the `COMPILE=0` fallback; {p.get("runs", 0):.0f} runs); "compiled" '
        f"this tree as `make install` builds it ({after['runs']:.0f} runs), pure and compiled "
        "measured in one session.",
        "",
        "| µs | before | pure Python | compiled | before / compiled | pure / compiled |",
        "|---|---:|---:|---:|---:|---:|",
        row("per order (tight loop)", "per_order_us"),
        row("per bar, no order", "per_bar_us", 2),
        row("fixed per trial, 100 bars, `NoOrders`", "fixed_noorders_us", 0),
        row("fixed per trial, 100 bars, `SmaCross(5, 20)`", "fixed_smacross_us", 0),
        "",
        f"- Fixed per-trial cost ≤ 1 ms: **{'met' if fixed <= 1000 else 'NOT met'}** "
        f"({fixed:,.0f} µs).",
    ]
    if "engine_iso_s" in after:
        lines += [
            "",
            f"Engine: {after['engine_bars']:,.0f} one-minute GBM bars (seed 42, no drift, 0.1 % "
            "per minute) read from a "
            f"CSV file, SmaCross {after['engine_fast']:.0f}/{after['engine_slow']:.0f}, no "
            "commission, all-equity long/short, open trades closed at the end; the CSV load "
            "is inside the timing for both, CPU time of the process (isoloop: "
            "`isoloop.run_backtest` on a `csv:` source; backtesting.py: `pd.read_csv` + "
            "`Backtest.run`). 20/40 gives the ~5,600 trades issue 15 names; 10/20 on these "
            "bars gives ~11,000.",
            "",
            "| engine | before s | pure s | compiled s | trades | final equity |",
            "|---|---:|---:|---:|---:|---:|",
            f"| isoloop | {fmt(b.get('engine_iso_s'), 3)} | {fmt(p.get('engine_iso_s'), 3)} | "
            f"{after['engine_iso_s']:.3f} | "
            f"{after['engine_iso_trades']:,.0f} | {after['engine_iso_equity']:,.2f} |",
            f"| backtesting.py 0.6.6 | {fmt(b.get('engine_bt_s'), 3)} | "
            f"{fmt(p.get('engine_bt_s'), 3)} | "
            f"{after['engine_bt_s']:.3f} | {after['engine_bt_trades']:,.0f} | "
            f"{after['engine_bt_equity']:,.2f} |",
            "",
            f"- isoloop vs backtesting.py (compiled): **{after['engine_ratio']:.2f}×** "
            f"(target ≥ 5×: **{'met' if after['engine_ratio'] >= 5 else 'NOT met'}**); "
            f"pure Python: {fmt(p.get('engine_ratio'), 2)}×; "
            f"before: {fmt(b.get('engine_ratio'), 2)}×.",
        ]
    write_section("costs", "\n".join(lines))


def saved(tag: str) -> dict[str, float]:
    """The median of every saved run of `tag`, key by key."""
    runs = [json.loads(p.read_text()) for p in sorted(SAVED.glob(f"{tag}-*.json"))]
    keys = {k for r in runs for k in r}
    return {k: statistics.median(r[k] for r in runs if k in r) for k in keys} | (
        {"runs": len(runs)} if runs else {}
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bars", type=int, default=50_000, help="bars of the per-bar figure")
    ap.add_argument("--order-bars", type=int, default=5_000, help="bars of the per-order one")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--engine-bars", type=int, default=200_000)
    ap.add_argument("--engine-fast", type=int, default=20)
    ap.add_argument("--engine-slow", type=int, default=40)
    ap.add_argument("--tag", default="after", choices=["after", "before", "pure"])
    ap.add_argument("--no-engine", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--write-only", action="store_true", help="write the saved runs' medians")
    args = ap.parse_args()
    if args.write_only:
        write(saved("after"), saved("before") or None, saved("pure") or None)
        return
    warnings.simplefilter("ignore")
    print(f"isoloop from {Path(isoloop.__file__).parent}", flush=True)
    out = costs(args.bars, args.order_bars, args.reps)
    print(json.dumps(out, indent=1), flush=True)
    if not args.no_engine:
        out |= engine(args.engine_bars, args.reps, args.engine_fast, args.engine_slow)
        print(json.dumps(out, indent=1), flush=True)
    SAVED.mkdir(exist_ok=True)
    (SAVED / f"{args.tag}-{time.time_ns()}.json").write_text(json.dumps(out))
    if args.tag == "after" and not args.no_write:
        write(saved("after"), saved("before") or None, saved("pure") or None)


if __name__ == "__main__":
    main()
