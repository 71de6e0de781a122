"""Walk-forward: best train params evaluated out of sample, windows stitched."""

from __future__ import annotations

from typing import Any

import pytest

from isoloop import run_backtest, run_sweep

BASE: dict[str, Any] = {
    "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {}},
    "data": {"source": "sample:GOOG"},
    "venue": {"cash": 10_000, "commission": 0.001},
}


def wf_sweep(mode: str) -> dict[str, Any]:
    return {
        "kind": "sweep",
        "base": BASE,
        "space": {"fast": [5, 10, 20], "slow": [30, 60]},
        "objective": {"metric": "sharpe_ratio"},
        "executor": {"kind": "serial"},
        "walk_forward": {"mode": mode, "train_bars": 600, "test_bars": 300},
    }


@pytest.mark.parametrize("mode", ["rolling", "anchored"])
def test_windows_cover_the_data_and_each_test_equals_a_plain_backtest(mode: str) -> None:
    result = run_sweep(wf_sweep(mode))
    # 2148 GOOG bars: windows start every 300 bars while train + test fit.
    assert len(result.windows) == 5
    assert result.total == 5 * 6 and result.failed == 0
    oos = result.oos_equity
    assert oos is not None and oos.index.is_monotonic_increasing
    assert oos.iloc[0] == pytest.approx(10_000)
    level = 10_000.0
    for w in result.windows:
        # The test window alone, through the ordinary backtest path with a date window.
        alone = run_backtest(
            BASE,
            **{
                "data.start": w.test[0],
                "data.end": w.test[1],
                "strategy.params.fast": w.best_params["fast"],
                "strategy.params.slow": w.best_params["slow"],
            },
        )
        assert alone.digest == w.test_digest
        growth = alone.stats["equity_final"] / 10_000
        segment = oos[w.test[0] : w.test[1]]
        assert segment.iloc[-1] == pytest.approx(level * growth, rel=1e-12)
        level = float(segment.iloc[-1])
    assert float(oos.iloc[-1]) == pytest.approx(level)


def test_best_train_params_are_the_train_sweeps_argmax() -> None:
    result = run_sweep(wf_sweep("rolling"))
    trials = result.trials
    for w in result.windows:
        rows = trials[(trials["window"] == w.window) & (trials["status"] == "ok")]
        best = rows.sort_values(["sharpe_ratio", "trial_id"], ascending=[False, True]).iloc[0]
        assert {"fast": best["param.fast"], "slow": best["param.slow"]} == w.best_params
