"""The parts of a sweep of backtests: the trial's base, walk-forward windows, imports."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np

import isoloop.sweep.runner as runner
from isoloop.config import load_run_config
from isoloop.data import Bars, MarketData, freeze_array, slice_bars
from isoloop.sweep import TrialSpec
from isoloop.sweep.loading import load_sweep
from isoloop.sweep.trial import BacktestTrial, TrialBase
from isoloop.sweep.walkforward import walk_forward_windows

BASE = {
    "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {"fast": 10}},
    "data": {"source": "sample:GOOG"},
    "venue": {"cash": 10_000},
    "seed": 7,
}


def test_trial_base_is_small_picklable_and_applies_params_and_seed() -> None:
    cfg, _ = load_run_config(BASE)
    base = TrialBase.of(cfg, {"GOOG": "ab" * 32})
    blob = pickle.dumps(base)
    assert len(blob) < 2_000  # sent once per worker or per map, never a model or a frame
    again = pickle.loads(blob)
    assert again == base and dict(again.fingerprints) == {"GOOG": "ab" * 32}
    run = again.trial_config(TrialSpec(3, {"fast": 5, "slow": 20}, seed=12345))
    assert run.strategy.params == {"fast": 5, "slow": 20}
    assert run.seed == 12345
    assert cfg.strategy.params == {"fast": 10} and cfg.seed == 7  # the base is untouched


def test_backtest_trial_pickles_without_its_worker_cache() -> None:
    trial = BacktestTrial()
    assert len(pickle.dumps(trial)) < 200
    assert pickle.loads(pickle.dumps(trial)) == trial


def test_runner_keeps_the_historical_names() -> None:
    from isoloop.sweep import outputs, result, run, validate

    assert runner.run_sweep is run.run_sweep
    assert runner.OptimizationExecutor is run.OptimizationExecutor
    assert runner.SweepResult is result.SweepResult
    assert runner.write_sweep_outputs is outputs.write_sweep_outputs
    assert runner.validate_sweep_file is validate.validate_sweep_file
    assert runner.load_sweep is load_sweep


def test_walk_forward_windows_rolling_and_anchored() -> None:
    assert walk_forward_windows(10, "rolling", 4, 2, 2) == [
        (0, 4, 4, 6),
        (2, 6, 6, 8),
        (4, 8, 8, 10),
    ]
    assert walk_forward_windows(10, "anchored", 4, 3, 3) == [(0, 4, 4, 7), (0, 7, 7, 10)]
    assert walk_forward_windows(5, "rolling", 4, 2, 2) == []


def _bars(symbol: str, days: list[int]) -> Bars:
    index = freeze_array(np.array(days, dtype="datetime64[D]"), "datetime64[ns]")
    values = freeze_array(np.arange(len(days)))
    return Bars(symbol, index, values, values, values, values, values)


def test_slice_bars_cuts_every_symbol_to_the_primary_span_read_only() -> None:
    md = MarketData({"A": _bars("A", [1, 2, 3, 4, 5]), "B": _bars("B", [2, 4, 6])})
    window = slice_bars(md, 1, 4)  # A's bars 1..3: days 2..4
    assert list(window["A"].index.astype("datetime64[D]").astype(int)) == [2, 3, 4]
    assert list(window["B"].index.astype("datetime64[D]").astype(int)) == [2, 4]
    assert list(window["A"].close) == [1.0, 2.0, 3.0] and list(window["B"].close) == [0.0, 1.0]
    # views of the shared bars, still read-only
    assert np.shares_memory(window["A"].close, md["A"].close)
    assert not window["A"].close.flags.writeable and not window["B"].close.flags.writeable


def test_importing_the_sweep_api_imports_no_optional_engine() -> None:
    code = (
        "import sys, isoloop, isoloop.sweep, isoloop.sweep.runner, isoloop.sweep.executors; "
        "print(sorted(m for m in ('dask', 'distributed', 'ray', 'optuna') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
