"""isoloop's results under backtesting.py's labels, for people who compare the two.

isoloop's stats are a snake_case mapping of plain numbers (durations in days)
because sweeps store, sort and optimize them. Someone coming from backtesting.py
reads "Return [%]", "Max. Drawdown Duration" as a Timedelta and a trades frame
with "EntryBar", "PnL", "Duration". `backtesting_stats` and `backtesting_trades`
give that shape — same labels, same order, same units — computed from isoloop's
own results; nothing here recomputes a statistic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from isoloop.results.trades import trades_table

__all__ = [
    "BACKTESTING_STATS_LABELS",
    "BACKTESTING_TRADE_COLUMNS",
    "backtesting_stats",
    "backtesting_trades",
]

#: backtesting.py's stats labels, in its display order, and the isoloop key each shows.
#: "Start", "End" and "Duration" come from the run's bar timestamps (see backtesting_stats).
BACKTESTING_STATS_LABELS: tuple[tuple[str, str], ...] = (
    ("Start", "start"),
    ("End", "end"),
    ("Duration", "duration_days"),
    ("Exposure Time [%]", "exposure_pct"),
    ("Equity Final [$]", "equity_final"),
    ("Equity Peak [$]", "equity_peak"),
    ("Commissions [$]", "commissions"),
    ("Return [%]", "return_pct"),
    ("Buy & Hold Return [%]", "buy_hold_return_pct"),
    ("Return (Ann.) [%]", "return_ann_pct"),
    ("Volatility (Ann.) [%]", "volatility_ann_pct"),
    ("CAGR [%]", "cagr_pct"),
    ("Sharpe Ratio", "sharpe_ratio"),
    ("Sortino Ratio", "sortino_ratio"),
    ("Calmar Ratio", "calmar_ratio"),
    ("Alpha [%]", "alpha_pct"),
    ("Beta", "beta"),
    ("Max. Drawdown [%]", "max_drawdown_pct"),
    ("Avg. Drawdown [%]", "avg_drawdown_pct"),
    ("Max. Drawdown Duration", "max_drawdown_duration_days"),
    ("Avg. Drawdown Duration", "avg_drawdown_duration_days"),
    ("# Trades", "trades"),
    ("Win Rate [%]", "win_rate_pct"),
    ("Best Trade [%]", "best_trade_pct"),
    ("Worst Trade [%]", "worst_trade_pct"),
    ("Avg. Trade [%]", "avg_trade_pct"),
    ("Max. Trade Duration", "max_trade_duration_days"),
    ("Avg. Trade Duration", "avg_trade_duration_days"),
    ("Profit Factor", "profit_factor"),
    ("Expectancy [%]", "expectancy_pct"),
    ("SQN", "sqn"),
    ("Kelly Criterion", "kelly_criterion"),
)

#: backtesting.py's trades columns, in its order, and the isoloop trades column each shows.
BACKTESTING_TRADE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Size", "size"),
    ("EntryBar", "entry_bar"),
    ("ExitBar", "exit_bar"),
    ("EntryPrice", "entry_price"),
    ("ExitPrice", "exit_price"),
    ("SL", "sl"),
    ("TP", "tp"),
    ("PnL", "pnl"),
    ("Commission", "commission"),
    ("ReturnPct", "return_pct"),
    ("EntryTime", "entry_time"),
    ("ExitTime", "exit_time"),
    ("Duration", "duration"),
    ("Tag", "tag"),
)

_DURATIONS = frozenset(
    {
        "max_drawdown_duration_days",
        "avg_drawdown_duration_days",
        "max_trade_duration_days",
        "avg_trade_duration_days",
    }
)
_US_PER_DAY = 86_400 * 10**6


def _timedelta(days: float) -> object:
    """Days back to a Timedelta (NaT for NaN), to the microsecond: a float of days holds
    every whole-microsecond span of a backtest exactly, not every nanosecond."""
    if math.isnan(days):
        return pd.NaT
    return pd.Timedelta(round(days * _US_PER_DAY), "us").as_unit("ns")


def _bounds(
    stats: Mapping[str, object] | pd.Series, equity: pd.Series | pd.DataFrame | None
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    if "start" in stats and "end" in stats:
        return pd.Timestamp(str(stats["start"])), pd.Timestamp(str(stats["end"]))
    if equity is not None and len(equity.index):
        index = pd.DatetimeIndex(equity.index)
        return index[0], index[-1]
    return None, None


def _equity_curve(equity: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """backtesting.py's `_equity_curve`: Equity, DrawdownPct (a fraction) and DrawdownDuration.

    DrawdownDuration is set on the bar each drawdown ends (recovery or the last
    bar) and NaT elsewhere, with backtesting.py's rule that a drawdown must span
    more than one bar step to count.
    """
    values = equity["equity"] if isinstance(equity, pd.DataFrame) else equity
    eq = values.to_numpy(dtype="float64")
    index = pd.DatetimeIndex(values.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = 1.0 - eq / np.maximum.accumulate(eq)
    zeros = np.unique(np.r_[np.flatnonzero(dd == 0), eq.size - 1])
    prev, end = zeros[:-1], zeros[1:]
    keep = end > prev + 1
    prev, end = prev[keep], end[keep]
    stamps = index.as_unit("ns").asi8
    duration = np.full(eq.size, np.timedelta64("NaT"), dtype="timedelta64[ns]")
    duration[end] = (stamps[end] - stamps[prev]).astype("timedelta64[ns]")
    # In the index's own time unit, as a difference of its timestamps would be.
    spans = pd.Series(duration, index=index).astype(np.dtype(f"timedelta64[{index.unit}]"))
    return pd.DataFrame({"Equity": eq, "DrawdownPct": dd, "DrawdownDuration": spans}, index=index)


def backtesting_stats(
    stats: Mapping[str, object] | pd.Series,
    trades: pd.DataFrame | None = None,
    *,
    equity: pd.Series | pd.DataFrame | None = None,
) -> pd.Series:
    """A run's stats as backtesting.py shows them: its labels, order and units.

    `stats` is a run's stats mapping (or the notebook's `.stats` Series),
    `trades` its trades table and `equity` its equity (the Series of a result or
    the notebook's `.equity` frame).

    Percent stays percent, money stays money, durations become Timedeltas,
    "Start"/"End" Timestamps and "# Trades" an int. "Start", "End" and "Duration"
    need the bar timestamps: from `stats["start"]`/`stats["end"]` when present,
    else from `equity`'s index (a run's `.equity`); without either they are left
    out. "Commissions [$]" is left out when zero, as backtesting.py does. With
    `trades`, the Series also holds `_trades` (see `backtesting_trades`); with
    `equity`, `_equity_curve`. Keys isoloop does not have are left out.
    """
    start, end = _bounds(stats, equity)
    # Every stat but start/end is a number; read them through one float view.
    numbers: dict[str, float] = {
        key: float(stats[key])  # type: ignore[arg-type]
        for _, key in BACKTESTING_STATS_LABELS
        if key not in ("start", "end") and key in stats
    }
    values: dict[str, object] = {}
    for label, key in BACKTESTING_STATS_LABELS:
        if key == "start":
            if start is not None:
                values[label] = start
        elif key == "end":
            if end is not None:
                values[label] = end
        elif key == "duration_days":
            if start is not None and end is not None:
                values[label] = end - start
            elif key in numbers:
                values[label] = _timedelta(numbers[key])
        elif key not in numbers:
            continue
        elif key in _DURATIONS:
            values[label] = _timedelta(numbers[key])
        elif key == "trades":
            values[label] = int(numbers[key])
        elif key != "commissions" or numbers[key]:  # no fee paid: no line, as backtesting.py
            values[label] = numbers[key]
    if equity is not None:
        values["_equity_curve"] = _equity_curve(equity)
    if trades is not None:
        values["_trades"] = backtesting_trades(trades)
    return pd.Series(values, dtype=object)


def backtesting_trades(trades: pd.DataFrame) -> pd.DataFrame:
    """A trades table under backtesting.py's column names and order.

    Every column backtesting.py has is present: `SL`/`TP` are NaN and `Tag` None
    where isoloop has no such column (or no value), `Duration` is computed when
    missing. `Size` is an integer column when every size is a whole number, as
    backtesting.py's are. isoloop's other columns (`symbol`, `venue`) are left
    out; `.trades` keeps them.
    """
    table = trades_table(trades)
    out = pd.DataFrame(index=range(len(table)))
    for label, key in BACKTESTING_TRADE_COLUMNS:
        if key in table.columns:
            column = table[key].reset_index(drop=True)
        elif key == "tag":
            column = pd.Series([None] * len(table), dtype=object)
        else:
            column = pd.Series(np.full(len(table), np.nan))
        out[label] = column
    size = out["Size"].to_numpy(dtype="float64")
    if size.size and np.isfinite(size).all() and (size == np.round(size)).all():
        out["Size"] = size.astype(np.int64)
    for label in ("SL", "TP"):
        out[label] = pd.to_numeric(out[label], errors="coerce").astype("float64")
    # A missing tag is None, as backtesting.py has it (pandas may hold it as NaN).
    tags = out["Tag"].astype(object)
    out["Tag"] = tags.where(tags.notna(), None)
    return out
