"""The SL/TP example strategy (`isoloop.examples.sma_bracket:SmaBracket`) against
backtesting.py, run at test time: the same SMA crosses with a stop-loss and a
take-profit on every entry, and with a trailing stop written as `trade.sl = …`."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import GOOG

import isoloop
from isoloop.examples.sma_bracket import SmaBracket


def _sma(values: Any, n: int) -> Any:
    return pd.Series(values).rolling(n).mean()


class OracleBracket(Strategy):
    fast = 10
    slow = 30
    sl_pct = 0.02
    tp_pct = 0.04
    trail_pct: float | None = None

    def init(self) -> None:
        self.a = self.I(_sma, self.data.Close, self.fast)
        self.b = self.I(_sma, self.data.Close, self.slow)

    def next(self) -> None:
        c = self.data.Close[-1]
        if crossover(self.a, self.b):
            self.position.close()
            self.buy(sl=c * (1 - self.sl_pct), tp=c * (1 + self.tp_pct))
        elif crossover(self.b, self.a):
            self.position.close()
            self.sell(sl=c * (1 + self.sl_pct), tp=c * (1 - self.tp_pct))
        if self.trail_pct is not None:
            for trade in self.trades:
                if trade.is_long:
                    trade.sl = max(trade.sl or 0.0, c * (1 - self.trail_pct))
                else:
                    trade.sl = min(trade.sl or float("inf"), c * (1 + self.trail_pct))


@pytest.mark.parametrize(
    "params",
    [
        {"sl_pct": 0.02, "tp_pct": 0.04},
        {"sl_pct": 0.05, "tp_pct": 0.03, "trail_pct": 0.03},
    ],
    ids=["fixed-brackets", "trailing-stop"],
)
def test_sma_bracket_equals_backtesting_py(params: dict[str, float]) -> None:
    settings: dict[str, Any] = {"cash": 10_000, "commission": 0.002, "spread": 0.0005}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = Backtest(GOOG, OracleBracket, finalize_trades=True, **settings).run(**params)
    ours = isoloop.Backtest(GOOG, SmaBracket, symbol="GOOG", **settings).run(**params)

    t = theirs["_trades"]
    mine = ours.trades
    assert len(mine) == len(t) > 20
    np.testing.assert_array_equal(mine["entry_bar"], t["EntryBar"])
    np.testing.assert_array_equal(mine["exit_bar"], t["ExitBar"])
    np.testing.assert_array_equal(mine["size"], t["Size"])
    np.testing.assert_allclose(mine["entry_price"], t["EntryPrice"], rtol=1e-9)
    np.testing.assert_allclose(mine["exit_price"], t["ExitPrice"], rtol=1e-9)
    np.testing.assert_allclose(mine["pnl"], t["PnL"], rtol=1e-9)
    np.testing.assert_allclose(mine["sl"], t["SL"].astype(float), rtol=1e-9)
    np.testing.assert_allclose(mine["tp"], t["TP"].astype(float), rtol=1e-9)
    np.testing.assert_allclose(
        ours.equity["equity"].to_numpy(), theirs["_equity_curve"]["Equity"].to_numpy(), rtol=1e-9
    )
    # Exits by stop-loss and by take-profit both happened (the brackets were exercised).
    assert ((mine["exit_price"] - mine["sl"]).abs() < 1e-9 * mine["sl"]).any()
    assert ((mine["exit_price"] - mine["tp"]).abs() < 1e-9 * mine["tp"]).any()
