"""SMA crossover with a stop-loss and a take-profit on every entry, and a trailing stop.

On a cross up close any position and go long with all equity, with a stop-loss
`sl_pct` below and a take-profit `tp_pct` above the signal bar's close; on a
cross down the mirror image. With `trail_pct` set, an open long's stop-loss is
raised to `trail_pct` below each close (never lowered), a short's lowered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from isoloop.engine.strategy import Strategy
from isoloop.errors import StrategyParamError
from isoloop.examples.sma_cross import SmaCross, crossover_signals, sma

__all__ = ["SmaBracket"]


class SmaBracket(Strategy):
    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        rest: dict[str, Any] = {k: params[k] for k in ("fast", "slow") if k in params}
        out = SmaCross.validate_params(rest)
        unknown = sorted(set(params) - {"fast", "slow", "sl_pct", "tp_pct", "trail_pct"})
        if unknown:
            raise StrategyParamError(
                f"strategy.params.{unknown[0]}: SmaBracket takes fast, slow, sl_pct, tp_pct "
                "and trail_pct; remove it"
            )
        for name, default in (("sl_pct", 0.02), ("tp_pct", 0.04), ("trail_pct", None)):
            value = params.get(name, default)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1
            ):
                raise StrategyParamError(
                    f"strategy.params.{name}: must be a fraction of price in (0, 1), got {value!r}"
                )
            out[name] = None if value is None else float(value)
        return out

    def init(self) -> None:
        close = self.data.close
        fast = sma(close, self.params["fast"])
        slow = sma(close, self.params["slow"])
        self._up: tuple[bool, ...] = tuple(crossover_signals(fast, slow).tolist())
        self._down: tuple[bool, ...] = tuple(crossover_signals(slow, fast).tolist())
        self._close: Sequence[float] = self.data.close_l
        self.warmup = max(self.params["slow"] - 1, 0)

    def on_bar(self, i: int) -> None:
        c = self._close[i]
        sl, tp = self.params["sl_pct"], self.params["tp_pct"]
        if self._up[i]:
            self.close()
            self.buy(sl=c * (1 - sl), tp=c * (1 + tp))
        elif self._down[i]:
            self.close()
            self.sell(sl=c * (1 + sl), tp=c * (1 - tp))
        trail = self.params["trail_pct"]
        if trail is not None:
            for trade in self.trades:
                if trade.is_long:
                    trade.sl = max(trade.sl or 0.0, c * (1 - trail))
                else:
                    trade.sl = min(trade.sl or float("inf"), c * (1 + trail))
