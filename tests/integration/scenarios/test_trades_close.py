"""Trades as objects: positions, partial and repeated closes, tags, closing at the end.

Re-creates backtesting.py's scenarios on trades and positions (a position
round trip, a trade closed twice in one bar, two buys then a one-unit sell,
half-closing a position on SMA crosses, open trades closed at the end or kept
open, an order placed on the last bar, tags reaching the trades table, a
strategy that trades only on 20-bar data, the one-trade / one-position /
no-trade border cases), each in backtesting.py at test time and in isoloop,
natively and through compat.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from . import data
from .oracle import Outcome, Scenario, cases, check

SCENARIOS = [
    Scenario("position-round-trip", data.goog20, "PositionRoundTrip"),
    Scenario("trade-closed-twice-in-one-bar", data.goog20, "TradeClosedTwice"),
    Scenario("two-buys-then-sell-one", data.goog20, "TwoBuysSellOne"),
    Scenario("position-half-closes", data.goog, "TenUnitsHalfOut", settings={"spread": 0.002}),
    Scenario("open-trade-closed-at-end", data.goog20, "BuyAndHold"),
    Scenario("tags-reach-trades", data.goog20, "TaggedOrders"),
    Scenario("last-bar-close-finalized", data.goog20, "CloseOnLastBar"),
    Scenario(
        "last-bar-close-not-finalized",
        data.goog20,
        "CloseOnLastBar",
        settings={"finalize_trades": False},
    ),
    *(
        Scenario(
            f"trades-only-on-20-bars-{n}",
            lambda n=n: data.goog().iloc[:n],
            "TradesOnlyOn20Bars",
            settings={"cash": 100_000},
        )
        for n in (20, 21, 22)
    ),
    *(
        Scenario(f"border-{name}", data.goog100, name)
        for name in ("SmaCross", "BuyOnceCloseNext", "HoldOne", "Idle")
    ),
]
BY_ID = {s.id: s for s in SCENARIOS}


@pytest.mark.parametrize(("scenario", "engine"), cases(SCENARIOS))
def test_scenario_matches_backtesting_py(
    scenario: Scenario, engine: str, oracle: Callable[[Scenario], Outcome]
) -> None:
    check(engine, scenario, oracle(scenario))


def test_tags_follow_the_trade_that_opened(oracle: Callable[[Scenario], Outcome]) -> None:
    scenario = BY_ID["tags-reach-trades"]
    ours = check("native", scenario, oracle(scenario))
    assert list(ours.trades["tag"]) == ["first", "first", "second"]


def test_unfinalized_run_keeps_the_last_bar_order_unfilled(
    oracle: Callable[[Scenario], Outcome],
) -> None:
    kept = check(
        "native",
        BY_ID["last-bar-close-not-finalized"],
        oracle(BY_ID["last-bar-close-not-finalized"]),
    )
    closed = check(
        "native", BY_ID["last-bar-close-finalized"], oracle(BY_ID["last-bar-close-finalized"])
    )
    assert len(kept.trades) == 0
    assert len(closed.trades) == 1


def test_only_the_20_bar_series_trades(oracle: Callable[[Scenario], Outcome]) -> None:
    counts = [
        len(
            check(
                "native",
                BY_ID[f"trades-only-on-20-bars-{n}"],
                oracle(BY_ID[f"trades-only-on-20-bars-{n}"]),
            ).trades
        )
        for n in (20, 21, 22)
    ]
    assert counts == [1, 0, 0]
