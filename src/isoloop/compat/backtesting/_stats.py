"""A finished run as backtesting.py's `Backtest.run()` returns it: one labelled Series.

The statistics are isoloop's (the same formulas, tested against backtesting.py);
only their labels and the extra entries `_strategy`, `_equity_curve` and
`_trades` are shaped the way ported code reads them.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LABELS", "RunStrategy", "equity_frame", "labelled_stats", "trades_frame"]

# isoloop stats key → backtesting.py label (the keys every isoloop run has).
LABELS: tuple[tuple[str, str], ...] = (
    ("exposure_pct", "Exposure Time [%]"),
    ("equity_final", "Equity Final [$]"),
    ("equity_peak", "Equity Peak [$]"),
    ("commissions", "Commissions [$]"),
    ("return_pct", "Return [%]"),
    ("buy_hold_return_pct", "Buy & Hold Return [%]"),
    ("return_ann_pct", "Return (Ann.) [%]"),
    ("volatility_ann_pct", "Volatility (Ann.) [%]"),
    ("sharpe_ratio", "Sharpe Ratio"),
    ("sortino_ratio", "Sortino Ratio"),
    ("calmar_ratio", "Calmar Ratio"),
    ("max_drawdown_pct", "Max. Drawdown [%]"),
    ("avg_drawdown_pct", "Avg. Drawdown [%]"),
    ("trades", "# Trades"),
    ("win_rate_pct", "Win Rate [%]"),
    ("best_trade_pct", "Best Trade [%]"),
    ("worst_trade_pct", "Worst Trade [%]"),
    ("avg_trade_pct", "Avg. Trade [%]"),
    ("profit_factor", "Profit Factor"),
    ("expectancy_pct", "Expectancy [%]"),
    ("sqn", "SQN"),
)

# isoloop trades column → backtesting.py `_trades` column.
_TRADE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("size", "Size"),
    ("entry_bar", "EntryBar"),
    ("exit_bar", "ExitBar"),
    ("entry_price", "EntryPrice"),
    ("exit_price", "ExitPrice"),
    ("sl", "SL"),
    ("tp", "TP"),
    ("pnl", "PnL"),
    ("commission", "Commission"),
    ("return_pct", "ReturnPct"),
    ("entry_time", "EntryTime"),
    ("exit_time", "ExitTime"),
    ("duration", "Duration"),
    ("tag", "Tag"),
)


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


def equity_frame(equity: pd.Series) -> pd.DataFrame:
    """`_equity_curve`: Equity, DrawdownPct (a fraction below the running peak) and
    DrawdownDuration (on the bar that ends each drawdown: its time from the peak)."""
    values = equity.to_numpy(dtype=np.float64)
    index = pd.DatetimeIndex(equity.index)
    dd = 1.0 - values / np.maximum.accumulate(values)
    duration = pd.Series(pd.NaT, index=index, dtype="timedelta64[ns]")
    at_peak = np.flatnonzero(dd == 0)
    ends = np.unique(np.r_[at_peak, len(dd) - 1]) if len(dd) else at_peak
    for prev, end in itertools.pairwise(ends):
        if end > prev + 1:  # bars between two peaks (or a peak and the last bar)
            duration.iloc[end] = index[end] - index[prev]
    return pd.DataFrame(
        {"Equity": values, "DrawdownPct": dd, "DrawdownDuration": duration}, index=index
    )


def trades_frame(trades: pd.DataFrame) -> pd.DataFrame:
    """`_trades`: isoloop's closed trades under backtesting.py's column names."""
    out = pd.DataFrame(index=trades.index)
    for ours, theirs in _TRADE_COLUMNS:
        if ours in trades.columns:
            out[theirs] = trades[ours].to_numpy()
        elif ours == "duration" and "exit_time" in trades.columns:
            out[theirs] = (trades["exit_time"] - trades["entry_time"]).to_numpy()
        elif ours in ("sl", "tp", "tag"):
            out[theirs] = None if ours == "tag" else np.nan
    if "Size" in out.columns and len(out):
        whole = np.all(np.mod(out["Size"].to_numpy(dtype=np.float64), 1) == 0)
        if whole:
            out["Size"] = out["Size"].astype(np.int64)
    return out


def labelled_stats(
    stats: Mapping[str, Any],
    equity: pd.Series,
    trades: pd.DataFrame,
    strategy: RunStrategy,
) -> pd.Series:
    """The run's stats under backtesting.py's labels plus `_strategy`, `_equity_curve`,
    `_trades`; stats isoloop does not compute are left out rather than faked."""
    index = pd.DatetimeIndex(equity.index)
    out: dict[str, Any] = {}
    if len(index):
        out["Start"], out["End"] = index[0], index[-1]
        out["Duration"] = index[-1] - index[0]
    for key, label in LABELS:
        if key in stats:
            value = stats[key]
            if key == "commissions" and not value:
                continue  # backtesting.py shows commissions only when some were paid
            out[label] = int(value) if key == "trades" else value
    out["_strategy"] = strategy
    out["_equity_curve"] = equity_frame(equity)
    out["_trades"] = trades_frame(trades)
    return pd.Series(out, dtype=object)
