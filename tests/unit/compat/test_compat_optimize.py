"""`Backtest.optimize` as backtesting.py users call it, against backtesting.py's own optimize."""

from __future__ import annotations

import warnings
from typing import Any

import backtesting
import numpy as np
import pytest
from backtesting.test import GOOG
from test_compat_parity import OracleSmaCross, SmaCross

from isoloop.compat.backtesting import Backtest
from isoloop.compat.backtesting._optimize import constraint_expression
from isoloop.errors import ConfigError

DATA = GOOG.iloc[:900]


def test_grid_optimize_with_a_lambda_constraint_equals_backtesting_py() -> None:
    space = {"n1": [5, 10, 15], "n2": range(10, 40, 10)}
    ours, heat = Backtest(DATA, SmaCross, finalize_trades=True).optimize(
        **space,
        maximize="Equity Final [$]",
        constraint=lambda p: p.n1 < p.n2,
        return_heatmap=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, their_heat = backtesting.Backtest(
            DATA, OracleSmaCross, finalize_trades=True
        ).optimize(
            **space,
            maximize="Equity Final [$]",
            constraint=lambda p: p.n1 < p.n2,
            return_heatmap=True,
        )
    # The same parameter combinations (the constraint left out n1=10/15, n2=10), same values.
    assert list(heat.index) == list(their_heat.index)
    assert heat.index.names == their_heat.index.names
    np.testing.assert_allclose(heat.to_numpy(), their_heat.to_numpy(), rtol=1e-9)
    assert str(ours["_strategy"]) == str(theirs["_strategy"]).replace("Oracle", "")
    assert ours["Equity Final [$]"] == pytest.approx(theirs["Equity Final [$]"], rel=1e-9)


def test_constraint_functions_become_sweep_expressions() -> None:
    def spaced(params):  # type: ignore[no-untyped-def]
        return params["fast"] * 2 <= params.slow

    assert constraint_expression(lambda p: p.n1 < p.n2) == "n1 < n2"
    assert constraint_expression(spaced) == "fast * 2 <= slow"
    assert constraint_expression("a < b") == "a < b"
    with pytest.raises(ConfigError, match="one expression over"):
        constraint_expression(lambda p: len(p) > 1)


def test_unknown_statistic_to_maximize_lists_the_labels() -> None:
    with pytest.raises(ConfigError, match=r"'Sharp Ratio' is not a statistic.*'Sharpe Ratio'"):
        Backtest(DATA, SmaCross).optimize(n1=[5, 10], maximize="Sharp Ratio")


def test_max_tries_samples_that_many_grid_points() -> None:
    _, heat = Backtest(DATA, SmaCross, finalize_trades=True).optimize(
        n1=[5, 10, 15, 20], n2=[25, 30, 35, 40], max_tries=5, return_heatmap=True
    )
    assert len(heat) == 5
    assert heat.index.names == ["n1", "n2"]


def test_maximize_function_scores_every_run_like_backtesting_py() -> None:
    """A nested function of the labelled stats (scored here, after the sweep), and a run that
    never trades (n1=n2: no cross) scoring NaN, as in backtesting.py."""

    def score(s: Any) -> float:
        return float(s["Equity Final [$]"] * (1 + s["Max. Drawdown [%]"] / 100))

    space = {"n1": [10, 20], "n2": [20, 30]}
    ours, heat = Backtest(DATA, SmaCross).optimize(**space, maximize=score, return_heatmap=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, their_heat = backtesting.Backtest(DATA, OracleSmaCross).optimize(
            **space, maximize=score, return_heatmap=True
        )
    assert heat.isna().sum() == their_heat.isna().sum() == 1
    assert list(heat.index) == list(their_heat.index)
    np.testing.assert_allclose(heat.to_numpy(), their_heat.to_numpy(), rtol=1e-9)
    assert str(ours["_strategy"]) == str(theirs["_strategy"]).replace("Oracle", "")


def test_sambo_runs_a_model_based_search_and_returns_its_best() -> None:
    stats, heat = Backtest(DATA, SmaCross).optimize(
        n1=range(5, 30, 5),
        n2=range(10, 70, 5),
        method="sambo",
        max_tries=6,
        maximize="Sharpe Ratio",
        random_state=3,
        return_heatmap=True,
    )
    assert len(heat) == 6
    assert stats["Sharpe Ratio"] == pytest.approx(heat.max(), rel=1e-12)
