"""`Backtest.optimize` as a quant uses it: a heatmap equal to backtesting.py's, an objective
that is a function of the stats, several objectives and a sampled grid."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest as OracleBacktest
from backtesting.test import GOOG

import isoloop
from isoloop.errors import ConfigError
from isoloop.examples.sma_cross import SmaCross
from support.oracle import OracleSmaCross

pytestmark = pytest.mark.timeout(300)

SPACE = {"fast": [5, 10, 15, 20], "slow": [20, 30, 40, 60]}


def calm(stats: dict[str, float]) -> float:
    """Return per unit of drawdown (a module-level function: trials import it by path)."""
    return stats["return_pct"] / (1.0 + abs(stats["max_drawdown_pct"]))


def _bt() -> isoloop.Backtest:
    return isoloop.Backtest(GOOG, SmaCross, symbol="GOOG", cash=10_000, commission=0.002)


def test_heatmap_equals_backtesting_py_return_heatmap() -> None:
    oracle = OracleBacktest(
        GOOG, OracleSmaCross, cash=10_000, commission=0.002, finalize_trades=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, heat = oracle.optimize(
            **SPACE,  # type: ignore[arg-type]
            constraint=lambda p: p.fast < p.slow,
            maximize="Sharpe Ratio",
            return_heatmap=True,
        )
    expected = heat.groupby(["fast", "slow"]).max().unstack()
    result = _bt().optimize(
        SPACE, constraint="fast < slow", objective="sharpe_ratio", executor="serial"
    )
    got = result.heatmap("fast", "slow")  # the objective, max over other parameters
    assert list(got.index) == list(expected.index)
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, equal_nan=True)
    # The best trial is backtesting.py's optimum.
    best = heat.idxmax()
    assert result.best is not None
    assert (result.best.params["fast"], result.best.params["slow"]) == best
    with pytest.raises(ConfigError, match="'speed' is not a parameter"):
        result.heatmap("speed", "slow")
    mean = result.heatmap("slow", "fast", stat="return_pct", agg="mean")
    assert mean.index.name == "slow" and mean.columns.name == "fast"


def test_maximize_takes_a_module_level_function_and_refuses_a_lambda() -> None:
    bt = _bt()
    result = bt.optimize(SPACE, constraint="fast < slow", maximize=calm, executor="process")
    trials = result.trials
    assert result.failed == 0 and "calm" in trials.columns
    expected = trials["return_pct"] / (1.0 + trials["max_drawdown_pct"].abs())
    assert (trials["calm"] - expected).abs().max() < 1e-12
    top = trials.sort_values(["calm", "trial_id"], ascending=[False, True]).iloc[0]
    assert result.best is not None and result.best.trial_id == int(top["trial_id"])
    same = bt.optimize(
        SPACE, constraint="fast < slow", objective={"function": calm}, executor="serial"
    )
    assert same.digest == result.digest and same.best == result.best
    with pytest.raises(ConfigError, match="trials may run in other processes"):
        bt.optimize(SPACE, maximize=lambda stats: stats["sqn"], executor="serial")
    low = bt.optimize(
        SPACE, constraint="fast < slow", minimize="max_drawdown_pct", executor="serial"
    )
    assert low.best is not None
    assert low.best.value == pytest.approx(low.trials["max_drawdown_pct"].min(), rel=1e-12)


def test_several_objectives_and_a_sampled_grid_from_the_notebook() -> None:
    bt = _bt()
    result = bt.optimize(
        SPACE,
        objective=["return_pct", {"metric": "max_drawdown_pct", "direction": "maximize"}],
        max_tries=0.5,
        executor="serial",
    )
    assert result.total == result.done == 8  # half of the 16 grid points
    pareto = result.pareto
    assert len(pareto) >= 1 and list(pareto["trial_id"]) == sorted(pareto["trial_id"])
    values = result.trials[["return_pct", "max_drawdown_pct"]].to_numpy()
    for row in pareto[["return_pct", "max_drawdown_pct"]].to_numpy():
        beaten = (values >= row).all(axis=1) & (values > row).any(axis=1)
        assert not beaten.any()  # no trial beats a front trial on both objectives
    off = result.trials[~result.trials["pareto"]]
    for row in off[["return_pct", "max_drawdown_pct"]].to_numpy():
        assert ((values >= row).all(axis=1) & (values > row).any(axis=1)).any()
    assert isinstance(result.heatmap("fast", "slow"), pd.DataFrame)
