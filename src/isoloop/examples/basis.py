"""A two-leg basis trade: long spot on one venue, short the same exposure on another.

Both legs go out as one instruction block, so the trade is all or nothing: if
the hedge leg fails, the spot leg is unwound (EXEC-006 in the run's log).
"""

from __future__ import annotations

from typing import Any

from isoloop.engine.books import BlockView
from isoloop.engine.strategy import Strategy
from isoloop.errors import StrategyParamError
from isoloop.model.orders import Side

__all__ = ["BasisTrade"]


class BasisTrade(Strategy):
    """Params: `units` (int > 0), `enter_bar` (≥ 1), `exit_bar` (> enter_bar, or None to
    hold until the end), `spot_venue`, `hedge_venue` (venue names in the container)."""

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Class-level and side-effect free, so `isoloop validate` checks params unbuilt."""
        out: dict[str, Any] = {
            "units": 10,
            "enter_bar": 1,
            "exit_bar": None,
            "spot_venue": "spot",
            "hedge_venue": "perp",
        }
        unknown = sorted(set(params) - set(out))
        if unknown:
            raise StrategyParamError(
                f"strategy.params.{unknown[0]}: BasisTrade takes {', '.join(out)}; remove it"
            )
        out.update(params)
        for name in ("units", "enter_bar"):
            v = out[name]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise StrategyParamError(
                    f"strategy.params.{name}: must be an integer >= 1, got {v!r}"
                )
        ex = out["exit_bar"]
        if ex is not None and (
            isinstance(ex, bool) or not isinstance(ex, int) or ex <= out["enter_bar"]
        ):
            raise StrategyParamError(
                f"strategy.params.exit_bar: must be an integer > enter_bar ({out['enter_bar']}) "
                f"or null, got {ex!r}"
            )
        return out

    def init(self) -> None:
        self.blocks: list[BlockView] = []

    def on_bar(self, i: int) -> None:
        p = self.params
        if i == p["enter_bar"]:
            self._trade(Side.BUY, Side.SELL, p["units"], p["units"])
        elif p["exit_bar"] is not None and i == p["exit_bar"]:
            spot = self.position(venue=p["spot_venue"])
            perp = self.position(venue=p["hedge_venue"], position_type="perp")
            if spot or perp:
                self._trade(Side.SELL, Side.BUY, abs(spot), abs(perp))

    def _trade(
        self, spot_side: Side, hedge_side: Side, spot_units: float, hedge_units: float
    ) -> None:
        p = self.params
        legs = [
            self.leg(spot_side, spot_units, venue=p["spot_venue"]),
            self.leg(hedge_side, hedge_units, venue=p["hedge_venue"], position_type="perp"),
        ]
        self.blocks.append(self.block(legs))
