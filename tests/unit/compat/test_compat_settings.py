"""backtesting.py's Backtest keywords reach the run: margin, hedging, exclusive orders."""

from __future__ import annotations

import warnings
from typing import Any

import backtesting
import pytest
from backtesting.test import GOOG
from test_compat_parity import assert_same_run

from isoloop.compat.backtesting import Backtest, Strategy

DATA = GOOG.iloc[:600]


def flipper(base: type) -> type:
    """Buys a fifth of the margin every 10 bars and sells a tenth every 15: with hedging
    the sells open their own shorts, with exclusive orders each order replaces the last.

    (Never two orders in one bar: with exclusive_orders, backtesting.py 0.6.6 cancels
    only every other working order then, as it removes them from the list it walks.)"""

    class Flip(base):  # type: ignore[misc, valid-type]
        def init(self) -> None:
            pass

        def next(self) -> None:
            bar = len(self.data) - 1
            if bar % 10 == 0:
                self.buy(size=0.2)
            elif bar % 15 == 7:
                self.sell(size=0.1)

    return Flip


@pytest.mark.parametrize(
    "settings",
    [
        {"margin": 0.2},
        {"hedging": True},
        {"exclusive_orders": True},
        {"margin": 0.5, "hedging": True, "commission": 0.001},
    ],
    ids=["margin", "hedging", "exclusive", "margin-hedging-commission"],
)
def test_account_keywords_equal_backtesting_py(settings: dict[str, Any]) -> None:
    settings = {"finalize_trades": True, **settings}
    ours = Backtest(DATA, flipper(Strategy), **settings).run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = backtesting.Backtest(DATA, flipper(backtesting.Strategy), **settings).run()
    assert theirs["# Trades"] > 10
    assert_same_run(ours, theirs)
