"""Walk-forward: a sweep per train window, its best params run once on the test window.

Each train window is an ordinary sweep (own store file, own resume); each test
window is one backtest in the driver. The test equity curves are stitched into
one out-of-sample curve, each window starting where the previous one ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from isoloop.data import MarketData, fingerprint, slice_bars
from isoloop.errors import ConfigError
from isoloop.results.digest import canonical_json, sweep_digest
from isoloop.sweep.backtests import sweep_backtests, sweep_definition, sweep_id
from isoloop.sweep.driver import ProgressFn, sweep_key
from isoloop.sweep.executors.base import Executor
from isoloop.sweep.loading import LoadedSweep
from isoloop.sweep.result import SweepResult, WalkForwardWindow
from isoloop.sweep.trial import backtest_params

__all__ = ["run_walk_forward", "walk_forward_windows"]

_TIME_FORMAT = "%Y-%m-%d %H:%M"


def walk_forward_windows(
    n: int, mode: str, train: int, test: int, step: int
) -> list[tuple[int, int, int, int]]:
    """(train_start, train_stop, test_start, test_stop) bar ranges; stops exclusive."""
    out = []
    start = 0
    while True:
        train_start = 0 if mode == "anchored" else start
        train_stop = start + train
        test_stop = train_stop + test
        if test_stop > n:
            break
        out.append((train_start, train_stop, train_stop, test_stop))
        start += step
    return out


def _span(index: np.ndarray, start: int, stop: int) -> tuple[str, str]:
    """The first and last timestamps of bars [start, stop)."""
    return (
        pd.Timestamp(index[start]).strftime(_TIME_FORMAT),
        pd.Timestamp(index[stop - 1]).strftime(_TIME_FORMAT),
    )


def run_walk_forward(
    loaded: LoadedSweep,
    data: MarketData,
    prints: Mapping[str, str],
    executor: Executor,
    store: Path | None,
    on_progress: ProgressFn | None,
) -> SweepResult:
    """Every window's train sweep and test run; the trials table gets a `window` column."""
    wf = loaded.config.walk_forward
    assert wf is not None
    primary = data[next(iter(data))]
    windows = walk_forward_windows(
        len(primary), wf.mode, wf.train_bars, wf.test_bars, wf.step_bars or wf.test_bars
    )
    if not windows:
        raise ConfigError(
            f"{loaded.source}: walk_forward needs train_bars + test_bars <= {len(primary)} bars"
        )
    results: list[WalkForwardWindow] = []
    segments: list[pd.Series] = []
    frames: list[pd.DataFrame] = []
    counts = [0, 0, 0]
    digests = []
    for k, (a, b, c, d) in enumerate(windows):
        train_data = slice_bars(data, a, b)
        train_prints = {s: fingerprint(bars) for s, bars in train_data.items()}
        window_store = (
            None if store is None else store.with_name(f"{store.stem}-wf{k}{store.suffix}")
        )
        outcome = sweep_backtests(
            loaded, train_data, train_prints, executor, window_store, on_progress
        )
        counts = [counts[0] + outcome.total, counts[1] + outcome.done, counts[2] + outcome.failed]
        table = outcome.trials.copy()
        table.insert(0, "window", k)
        frames.append(table)
        if outcome.best is None:
            raise ConfigError(f"{loaded.source}: walk-forward window {k} has no successful trial")
        test_data = slice_bars(data, c, d)
        test_prints = {s: fingerprint(bars) for s, bars in test_data.items()}
        test = backtest_params(
            loaded.base, outcome.best.params, test_data, test_prints, f"wf{k}-test"
        )
        segments.append(test.equity / test.equity.iloc[0])
        digests.append(
            {"id": k, "params": dict(outcome.best.params), "status": "ok", "digest": test.digest}
        )
        results.append(
            WalkForwardWindow(
                window=k,
                train=_span(primary.index, a, b),
                test=_span(primary.index, c, d),
                best_params=dict(outcome.best.params),
                train_value=outcome.best.value,
                test_stats=test.stats,
                test_digest=test.digest,
            )
        )
    # Stitch: each test window starts where the previous one ended (compounded).
    stitched, level = [], loaded.base.venue.cash
    for seg in segments:
        stitched.append(seg * level)
        level = float(stitched[-1].iloc[-1])
    objectives = loaded.config.objective_list()
    key = sweep_key({"wf": canonical_json(sweep_definition(loaded, prints)), "windows": windows})
    return SweepResult(
        sweep_id=sweep_id(loaded, key),
        trials=pd.concat(frames, ignore_index=True),
        total=counts[0],
        done=counts[1],
        failed=counts[2],
        best=None,
        digest=sweep_digest(digests),
        store=store,
        windows=results,
        oos_equity=pd.concat(stitched),
        # The report and summary.json name the objective each window's best was picked by.
        metric=objectives[0].name,
        objectives=tuple(objectives),
    )
