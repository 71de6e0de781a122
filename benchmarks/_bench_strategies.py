"""Strategies used only by benchmarks (imported by class path `_bench_strategies:Name`)."""

from __future__ import annotations

from typing import Any

from isoloop.engine.strategy import Strategy
from isoloop.examples.sma_cross import SmaCross


class NoOrders(Strategy):
    """Never orders: a run costs the fixed part plus the bar loop."""

    def on_bar(self, i: int) -> None:
        return None


class OrderEveryBar(Strategy):
    """One market order on every bar (buy 1, sell 1, ...): each goes through the whole
    tight loop (risk, route, fill, handshake, position update, reconcile, trade book)."""

    def on_bar(self, i: int) -> None:
        if i & 1:
            self.sell(size=1)
        else:
            self.buy(size=1)


class SmaCrossRep(SmaCross):
    """SmaCross with an ignored `rep` parameter: a grid of many identical-cost trials
    (`rep` × fast × slow) for the long-sweep benchmark."""

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        rest = {k: v for k, v in params.items() if k != "rep"}
        return SmaCross.validate_params(rest) | {"rep": params.get("rep", 0)}
