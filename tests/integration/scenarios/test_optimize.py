"""The optimizer over the same grid: every trial's stats equal backtesting.py's heatmap.

Re-creates backtesting.py's optimizer scenarios that are about results (a
constrained grid with its heatmap; a timezone-aware index; refused parameter
spaces). Its SAMBO method, timing and plotting tests are not re-created (see
INVENTORY.md).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest as BtBacktest

import isoloop
from isoloop.errors import InputError
from support.scenario_strategies import SmaCross

from . import data
from .oracle import BT

GRID = {"fast": [2, 4], "slow": [2, 5, 7, 9]}


def _bt_heatmap(df: pd.DataFrame, metric: str) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = BtBacktest(df, BT.SmaCross, finalize_trades=True)
        _, heatmap = bt.optimize(
            **GRID, maximize=metric, constraint=lambda p: p.fast < p.slow, return_heatmap=True
        )
    return heatmap


@pytest.mark.parametrize(("metric", "key"), [("SQN", "sqn"), ("Sharpe Ratio", "sharpe_ratio")])
def test_grid_trials_equal_the_oracle_heatmap(metric: str, key: str) -> None:
    heatmap = _bt_heatmap(data.goog100(), metric)
    bt = isoloop.Backtest(data.goog100(), SmaCross, symbol="GOOG")
    res = bt.optimize(**GRID, constraint="fast < slow", objective=key, executor="serial")
    trials = res.trials.set_index(["param.fast", "param.slow"])[key].sort_index()
    assert list(trials.index) == list(heatmap.sort_index().index)
    np.testing.assert_allclose(trials.to_numpy(), heatmap.sort_index().to_numpy(), rtol=1e-9)
    best = heatmap.idxmax()
    assert res.best is not None
    assert (res.best.params["fast"], res.best.params["slow"]) == best


def test_compat_grid_heatmap_equals_the_oracle() -> None:
    """The oracle's own optimize call, its import changed: the same heatmap and best run."""
    metric = "Sharpe Ratio"
    import isoloop.compat.backtesting as compat

    from .ported import SmaCross as Ported

    theirs = _bt_heatmap(data.goog100(), metric)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best, ours = compat.Backtest(data.goog100(), Ported, finalize_trades=True).optimize(
            **GRID, maximize=metric, constraint=lambda p: p.fast < p.slow, return_heatmap=True
        )
    assert list(ours.sort_index().index) == list(theirs.sort_index().index)
    np.testing.assert_allclose(ours.sort_index(), theirs.sort_index(), rtol=1e-9)
    assert best[metric] == pytest.approx(theirs.max(), rel=1e-9)


def test_empty_parameter_list_is_refused_by_both() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError):
            BtBacktest(data.goog100(), BT.SmaCross).optimize(fast=[])
    with pytest.raises(InputError):
        isoloop.Backtest(data.goog100(), SmaCross, symbol="GOOG").optimize(
            fast=[], executor="serial"
        )


def test_unknown_parameter_fails_every_trial() -> None:
    """backtesting.py raises before running; isoloop's sweep records each trial as failed
    (its sweep policy: a failing trial never takes the sweep down) and has no best."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(AttributeError):
            BtBacktest(data.goog100(), BT.SmaCross).optimize(foo=[1, 2, 3])
    res = isoloop.Backtest(data.goog100(), SmaCross, symbol="GOOG").optimize(
        foo=[1, 2, 3], executor="serial"
    )
    assert list(res.trials["status"]) == ["error"] * 3
    assert res.trials["error"].str.contains("foo").all()
    assert res.best is None


# A zone-aware index reached the data checks as objects (a TypeError traceback) until
# the index went through the same UTC conversion as a timestamp column.
def test_timezone_aware_index_optimizes_like_the_oracle() -> None:
    df = data.goog100()
    df.index = df.index.tz_localize("Asia/Kolkata")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = BtBacktest(df, BT.SmaCross, finalize_trades=True).optimize(fast=[2], slow=[4])
    res = isoloop.Backtest(df, SmaCross, symbol="GOOG").optimize(
        fast=[2], slow=[4], objective="sqn", executor="serial"
    )
    assert res.best is not None
    assert res.best.stats["trades"] == theirs["# Trades"] > 0
    assert res.best.stats["equity_final"] == pytest.approx(theirs["Equity Final [$]"], rel=1e-9)
