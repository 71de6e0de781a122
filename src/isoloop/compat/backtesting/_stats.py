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


def _in_zone(stamps: Any, tz: Any) -> Any:
    """isoloop's UTC timestamps back in the data's own time zone (what the user gave)."""
    if tz is None:
        return stamps
    if isinstance(stamps, pd.Series):
        return stamps.dt.tz_localize("UTC").dt.tz_convert(tz)
    if isinstance(stamps, pd.DatetimeIndex):
        return stamps.tz_localize("UTC").tz_convert(tz)
    return pd.Timestamp(stamps).tz_localize("UTC").tz_convert(tz)


def labelled_stats(
    stats: Mapping[str, Any],
    equity: pd.Series,
    trades: pd.DataFrame,
    strategy: RunStrategy,
    tz: Any = None,
) -> pd.Series:
    """The run's stats under backtesting.py's labels, then `_strategy`, `_equity_curve`,
    `_trades` (in backtesting.py's order); times in the data's time zone `tz`."""
    view = backtesting_stats(stats, trades, equity=equity)
    labels = [k for k in view.index if not str(k).startswith("_")]
    out = view[labels].to_dict()
    curve = view["_equity_curve"]
    table = view["_trades"]
    if tz is not None:
        for label in ("Start", "End"):
            if label in out:
                out[label] = _in_zone(out[label], tz)
        curve = curve.set_axis(_in_zone(pd.DatetimeIndex(curve.index), tz))
        table = table.assign(
            EntryTime=_in_zone(table["EntryTime"], tz), ExitTime=_in_zone(table["ExitTime"], tz)
        )
    out["_strategy"] = strategy
    out["_equity_curve"] = curve
    out["_trades"] = table
    return pd.Series(out, dtype=object)
