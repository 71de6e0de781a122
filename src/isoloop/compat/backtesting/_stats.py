"""A finished run as backtesting.py's `Backtest.run()` returns it: one labelled Series.

The statistics are isoloop's (the same formulas, tested against backtesting.py)
under backtesting.py's labels (`isoloop.results.backtesting_stats`), followed by
the entries ported code reads: `_strategy`, `_equity_curve` and `_trades`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from isoloop.results import backtesting_stats

__all__ = ["RunStrategy", "labelled_stats"]


class RunStrategy:
    """`stats._strategy`: the strategy class and the parameters of the run, read-only.

    (The strategy object itself lived in the run's scope and was torn down with it.)
    """

    def __init__(self, cls: type, params: Mapping[str, Any]) -> None:
        self._cls = cls
        self._params = dict(params)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._params)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._params:
            return self._params[name]
        return getattr(self._cls, name)

    def __str__(self) -> str:
        shown = ",".join(f"{k}={v}" for k, v in self._params.items())
        return f"{self._cls.__name__}({shown})" if shown else self._cls.__name__

    def __repr__(self) -> str:
        return f"<Strategy {self}>"


def labelled_stats(
    stats: Mapping[str, Any],
    equity: pd.Series,
    trades: pd.DataFrame,
    strategy: RunStrategy,
) -> pd.Series:
    """The run's stats under backtesting.py's labels, then `_strategy`, `_equity_curve`,
    `_trades` (in backtesting.py's order)."""
    view = backtesting_stats(stats, trades, equity=equity)
    labels = [k for k in view.index if not str(k).startswith("_")]
    out = view[labels].to_dict()
    out["_strategy"] = strategy
    out["_equity_curve"] = view["_equity_curve"]
    out["_trades"] = view["_trades"]
    return pd.Series(out, dtype=object)
