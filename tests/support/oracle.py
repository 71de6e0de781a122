"""backtesting.py as the oracle: its own SmaCross run on the same data and settings."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import SMA


class OracleSmaCross(Strategy):
    """backtesting.py's SmaCross example (its test suite's golden strategy)."""

    fast = 10
    slow = 30

    def init(self) -> None:
        self.sma1 = self.I(SMA, self.data.Close, self.fast)
        self.sma2 = self.I(SMA, self.data.Close, self.slow)

    def next(self) -> None:
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell()


def oracle_run(df: pd.DataFrame, fast: int, slow: int, **bt_kwargs: Any) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(df, OracleSmaCross, finalize_trades=True, **bt_kwargs)
        return bt.run(fast=fast, slow=slow)


def bt_trades_frame(t: pd.DataFrame, symbol: str, venue: str = "sim") -> pd.DataFrame:
    """backtesting.py's `_trades` in isoloop's trades columns (the metrics/report input)."""
    return pd.DataFrame(
        {
            "symbol": symbol,
            "venue": venue,
            "size": t["Size"].to_numpy(),
            "entry_bar": t["EntryBar"].to_numpy(),
            "exit_bar": t["ExitBar"].to_numpy(),
            "entry_price": t["EntryPrice"].to_numpy(),
            "exit_price": t["ExitPrice"].to_numpy(),
            "entry_time": t["EntryTime"].to_numpy(),
            "exit_time": t["ExitTime"].to_numpy(),
            "pnl": t["PnL"].to_numpy(),
            "commission": t["Commission"].to_numpy(),
            "return_pct": t["ReturnPct"].to_numpy(),
        }
    )
