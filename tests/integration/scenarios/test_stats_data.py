"""Whole-run statistics and the bars a strategy is given.

Re-creates backtesting.py's scenarios on stats and data: the SMA crossover on
GOOG (every stat it reports), on EURUSD, on weekly bars (annualized figures), on
EURUSD filled at the close (exit prices are those bars' closes), on each of the
three bundled datasets (its multi-dataset helper), extra data columns a strategy
trades on, a run leaving the caller's DataFrame untouched, and the data it
refuses (a missing column, an all-NaN column, not a DataFrame, no rows).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import isoloop
from isoloop.errors import InputError
from support.scenario_strategies import SmaCross

from . import data
from .oracle import BT, Outcome, Scenario, bt_stats, cases, check, native_outcome


def goog_with_extra_columns() -> pd.DataFrame:
    """GOOG plus a P/E column and a signal column (close above/below its 20-bar mean)."""
    df = data.goog()
    df["P/E"] = np.arange(len(df), dtype="float64")
    df["Signal"] = df["Close"] - df["Close"].rolling(20).mean().fillna(df["Close"])
    return df


SCENARIOS = [
    Scenario("sma-cross-goog-all-stats", data.goog, "SmaCross"),
    Scenario("sma-cross-eurusd", data.eurusd, "SmaCross", symbol="EURUSD"),
    Scenario("sma-cross-goog-weekly", data.goog_weekly, "SmaCross"),
    Scenario(
        "sma-cross-eurusd-on-close",
        data.eurusd,
        "SmaCross",
        settings={"trade_on_close": True},
        symbol="EURUSD",
    ),
    *(
        Scenario(
            f"multi-dataset-{name}",
            factory,
            "SmaCross",
            {"fast": 2},
            {"cash": 100_000},
            symbol=name,
        )
        for name, factory in (("GOOG", data.goog), ("EURUSD", data.eurusd), ("BTCUSD", data.btcusd))
    ),
    Scenario("extra-columns", goog_with_extra_columns, "ExtraColumns"),
]
BY_ID = {s.id: s for s in SCENARIOS}


@pytest.mark.parametrize(("scenario", "engine"), cases(SCENARIOS))
def test_scenario_matches_backtesting_py(
    scenario: Scenario, engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    check(engine, scenario, oracle(scenario))


def test_on_close_exits_are_the_exit_bars_closes(oracle: Callable[[Scenario], Outcome]) -> None:
    scenario = BY_ID["sma-cross-eurusd-on-close"]
    ours = check("native", scenario, oracle(scenario))
    closes = data.eurusd()["Close"].to_numpy()
    np.testing.assert_array_equal(ours.trades["exit_price"], closes[ours.trades["exit_bar"]])


def test_weekly_bars_annualize(oracle: Callable[[Scenario], Outcome]) -> None:
    ours = check("native", BY_ID["sma-cross-goog-weekly"], oracle(BY_ID["sma-cross-goog-weekly"]))
    assert np.isfinite(ours.stats["return_ann_pct"])


def test_a_run_leaves_the_callers_frame_untouched() -> None:
    df = data.eurusd()
    before = df.copy()
    bt = isoloop.Backtest(df, SmaCross, symbol="EURUSD")
    bt.run()
    bt.optimize(fast=[4], slow=[6, 8], executor="serial")
    pd.testing.assert_frame_equal(df, before)


def _without_open() -> pd.DataFrame:
    return data.goog().drop(columns=["Open"])


def _nan_open() -> pd.DataFrame:
    df = data.goog()
    df["Open"] = np.nan
    return df


@pytest.mark.parametrize(
    "bad",
    [_without_open, _nan_open, lambda: data.goog().index, lambda: data.goog().iloc[:0]],
    ids=["missing-open", "all-nan-open", "not-a-frame", "no-rows"],
)
def test_bad_data_is_refused_by_both(bad: Callable[[], object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        bt_stats(bad(), BT.SmaCross)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        isoloop.Backtest(bad(), SmaCross, symbol="GOOG").run()  # type: ignore[arg-type]


def test_unknown_strategy_parameter_is_refused_by_both() -> None:
    with pytest.raises(AttributeError):
        bt_stats(data.goog(), BT.SmaCross, {"foo": 3})
    with pytest.raises(InputError, match="foo"):
        native_outcome(Scenario("foo", data.goog, "SmaCross", {"foo": 3}))
