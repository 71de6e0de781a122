"""Stop-loss / take-profit brackets, stop and stop-limit entries, cancels, trailing stops.

Re-creates backtesting.py's scenarios on contingent orders (its `_test.py`:
entries that hit their SL on the entry bar, a stop entry between SL and TP,
stop-limit fill prices, SL before TP, a stop entry and its TP in one bar, SL/TP
in the trades table even when gapped through, cancels, the trailing-stop
helper, the kitchen-sink "assertions" strategy, trade-on-close exits); each runs
in backtesting.py at test time and in isoloop, natively and through compat.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from isoloop.errors import IsoloopError

from . import data
from .oracle import BT, ENGINES, Outcome, Scenario, bt_stats, cases, check, run_engine

SCENARIOS = [
    Scenario("sl-hit-on-entry-day", data.goog, "EntryOnDate", {"day": "2012-10-17", "sl": 720}),
    Scenario(
        "stop-entry-sl-same-day",
        data.goog,
        "EntryOnDate",
        {"day": "2012-10-17", "stop": 758, "sl": 720},
    ),
    Scenario(
        "stop-entry-between-sl-tp",
        data.goog,
        "EntryOnDate",
        {"day": "2004-09-09", "stop": 104, "sl": 103, "tp": 110},
    ),
    Scenario("stop-limit-fills-at-stop", data.goog20, "StopLimitPair"),
    Scenario("sl-before-tp-in-one-bar", data.goog20, "SlBeforeTp"),
    Scenario("stop-entry-and-tp-same-bar", data.goog20, "ShortStopTpSameBar"),
    Scenario("sl-tp-columns", data.goog20, "SlTpColumns"),
    Scenario("sl-gapped-through", data.goog20, "GappedStopLoss"),
    Scenario(
        "bracket-every-bar-cancelled",
        data.goog20,
        "BracketEveryBar",
    ),
    Scenario(
        "short-brackets-half-closes",
        data.goog,
        "ShortBracketsHalfCloses",
    ),
    Scenario("trailing-atr-stop", data.goog, "TrailingAtr"),
    Scenario(
        "sl-on-close-fill-gapped",
        lambda: data.flat_bars([100, 100, 100, 50, 50]),
        "BuyAtHundredWithStop",
        settings={"cash": 100, "trade_on_close": True},
    ),
    *(
        Scenario(
            f"close-first-of-two-stops-{'on-close' if on_close else 'next-open'}",
            lambda: data.flat_bars([100, 101, 102, 50, 51], opens=[90, 91, 92, 40, 41]),
            "TwoStopsCloseFirst",
            settings={"cash": 250, "trade_on_close": on_close},
        )
        for on_close in (True, False)
    ),
]
BY_ID = {s.id: s for s in SCENARIOS}


@pytest.mark.parametrize(("scenario", "engine"), cases(SCENARIOS))
def test_scenario_matches_backtesting_py(
    scenario: Scenario, engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    check(engine, scenario, oracle(scenario))


@pytest.mark.parametrize("engine", ENGINES)
def test_sl_reached_on_the_entry_bar_exits_at_the_sl(
    engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    scenario = BY_ID["sl-hit-on-entry-day"]
    ours = check(engine, scenario, oracle(scenario))
    assert ours.trades["exit_price"].iloc[0] == 720
    assert ours.trades["exit_bar"].iloc[0] == ours.trades["entry_bar"].iloc[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_gapped_sl_exits_at_the_open_and_keeps_its_level(
    engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    scenario = BY_ID["sl-gapped-through"]
    ours = check(engine, scenario, oracle(scenario))
    trade = ours.trades.iloc[0]
    assert trade["exit_price"] == data.goog20()["Open"].iloc[int(trade["exit_bar"])]
    assert trade["exit_price"] < 99.5
    assert trade["sl"] == 99.5


@pytest.mark.parametrize("engine", ENGINES)
def test_tp_below_the_spread_adjusted_entry_is_refused(engine: str) -> None:
    """A long TP under the price the order would fill at: both engines refuse the order."""
    bad = Scenario("tp-below-fill", data.goog20, "TakeProfitOnePercent", settings={"spread": 0.02})
    with pytest.raises(ValueError, match="TP"):
        bt_stats(bad.data(), BT.TakeProfitOnePercent, spread=0.02)
    with pytest.raises((ValueError, IsoloopError), match=r"(?i)tp"):
        run_engine(engine, bad)
