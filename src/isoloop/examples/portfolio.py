"""An equal-weight portfolio over every symbol of the run, on one account.

Every symbol gets the same share of the account's equity (`invest` of it in
all, the rest stays cash as a buffer for fills that come a bar later), in whole
units, rebalanced on every `every`-th clock bar on which *all* symbols traded:
only there is every price current. Orders are market orders: each fills at its
own symbol's next bar (a monthly symbol a month later), sells before buys.
Because a sale may fill a month after the buy it was meant to pay for, buys
spend only the cash the account holds when they are placed (less `CASH_BUFFER`
for the commission and the move to the next open); the rest of a target is
bought at a later rebalance.

Run it over symbols that trade on different days with `data.clock: union`, so
no symbol's bars are skipped (see docs/portfolios.md and configs/portfolio.yaml).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from isoloop.engine.strategy import Strategy
from isoloop.errors import StrategyParamError

__all__ = ["EqualWeight"]


class EqualWeight(Strategy):
    #: Share of the cash on hand a rebalance's buys leave unspent.
    CASH_BUFFER = 0.02

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Class-level and side-effect free, so `isoloop validate` checks params unbuilt."""
        unknown = sorted(set(params) - {"invest", "every"})
        if unknown:
            raise StrategyParamError(
                f"strategy.params.{unknown[0]}: EqualWeight takes only `invest` and `every`; "
                "remove it"
            )
        invest = params.get("invest", 0.9)
        every = params.get("every", 1)
        if isinstance(invest, bool) or not isinstance(invest, int | float):
            raise StrategyParamError(f"strategy.params.invest: must be a number, got {invest!r}")
        if not 0 < invest <= 1:
            raise StrategyParamError(
                f"strategy.params.invest: must be in (0, 1] (a share of equity), got {invest}"
            )
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise StrategyParamError(
                f"strategy.params.every: must be an integer >= 1 (bars), got {every!r}"
            )
        return {"invest": float(invest), "every": every}

    def init(self) -> None:
        self.symbols: tuple[str, ...] = tuple(sorted(self.market.symbols))
        # A rebalance needs a current price for every symbol: bars all of them traded.
        every_traded = np.logical_and.reduce([self.market[s].has_bar for s in self.symbols])
        self._common: tuple[bool, ...] = tuple(every_traded.tolist())
        self._seen = 0

    def on_bar(self, i: int) -> None:
        if not self._common[i]:
            return
        self._seen += 1
        if (self._seen - 1) % self.params["every"]:
            return
        # A symbol whose last order has not filled yet (it waits for its next bar)
        # is left alone: a second order would double it.
        waiting = {o.symbol for o in self.books.working_orders()}
        budget = self.books.equity() * self.params["invest"] / len(self.symbols)
        sells: list[tuple[str, float]] = []
        buys: list[tuple[str, float]] = []
        for sym in self.symbols:
            if sym in waiting:
                continue
            target = math.floor(budget / self.market[sym].close[i])
            diff = target - self.position(sym)
            if diff < 0:
                sells.append((sym, -diff))
            elif diff > 0:
                buys.append((sym, diff))
        # Sells first: when both fill on the same bar, the cash they free pays for the buys.
        for sym, units in sells:
            self.sell(units, symbol=sym)
        cash = self.books.total_cash() * (1.0 - self.CASH_BUFFER)
        for sym, wanted in buys:
            price = self.market[sym].close[i]
            units = min(wanted, math.floor(cash / price))
            if units > 0:
                self.buy(units, symbol=sym)
                cash -= units * price
