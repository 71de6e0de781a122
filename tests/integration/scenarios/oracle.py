"""One scenario, three runs, one comparison.

A `Scenario` names its bars, a strategy (by name: the same name in
`bt_strategies.build(...)` and in `support.scenario_strategies`), its parameters
and backtesting.py's `Backtest` keyword settings. `bt_outcome` runs it in
backtesting.py (the oracle, at test time), `native_outcome` through
`isoloop.Backtest` with the native strategy, `compat_outcome` through
`isoloop.compat.backtesting` with the very code the oracle ran. Each becomes an
`Outcome` in isoloop's names, and `assert_same` lists every difference: each
shared stat, each trade (bars, prices, size, P&L, return, commission, times, and
tag/SL/TP where isoloop reports them) and the equity curve, to 1e-9 relative.
"""

from __future__ import annotations

import importlib
import math
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import backtesting
import backtesting.lib
import numpy as np
import pandas as pd
import pytest

import isoloop
from isoloop.results.digest import DIGEST_STATS_KEYS

from .bt_strategies import build

RTOL = 1e-9

#: backtesting.py's stat labels -> isoloop's stats keys (compared when both report them).
STAT_KEYS: Mapping[str, str] = {
    "Equity Final [$]": "equity_final",
    "Equity Peak [$]": "equity_peak",
    "Return [%]": "return_pct",
    "Buy & Hold Return [%]": "buy_hold_return_pct",
    "Return (Ann.) [%]": "return_ann_pct",
    "Volatility (Ann.) [%]": "volatility_ann_pct",
    "CAGR [%]": "cagr_pct",
    "Sharpe Ratio": "sharpe_ratio",
    "Sortino Ratio": "sortino_ratio",
    "Calmar Ratio": "calmar_ratio",
    "Alpha [%]": "alpha_pct",
    "Beta": "beta",
    "Max. Drawdown [%]": "max_drawdown_pct",
    "Avg. Drawdown [%]": "avg_drawdown_pct",
    "Max. Drawdown Duration": "max_drawdown_duration_days",
    "Avg. Drawdown Duration": "avg_drawdown_duration_days",
    "# Trades": "trades",
    "Win Rate [%]": "win_rate_pct",
    "Best Trade [%]": "best_trade_pct",
    "Worst Trade [%]": "worst_trade_pct",
    "Avg. Trade [%]": "avg_trade_pct",
    "Max. Trade Duration": "max_trade_duration_days",
    "Avg. Trade Duration": "avg_trade_duration_days",
    "Profit Factor": "profit_factor",
    "Expectancy [%]": "expectancy_pct",
    "SQN": "sqn",
    "Kelly Criterion": "kelly_criterion",
    "Exposure Time [%]": "exposure_pct",
    "Commissions [$]": "commissions",
    "Start": "start",
    "End": "end",
    "Duration": "duration_days",
}

#: The stats every isoloop run reports today (the contract); the rest are compared when present.
CORE_STATS = DIGEST_STATS_KEYS

#: backtesting.py's trades columns -> isoloop's.
TRADE_COLUMNS: Mapping[str, str] = {
    "Size": "size",
    "EntryBar": "entry_bar",
    "ExitBar": "exit_bar",
    "EntryPrice": "entry_price",
    "ExitPrice": "exit_price",
    "EntryTime": "entry_time",
    "ExitTime": "exit_time",
    "PnL": "pnl",
    "ReturnPct": "return_pct",
    "Commission": "commission",
    "Tag": "tag",
    "SL": "sl",
    "TP": "tp",
}
CORE_TRADE_COLUMNS = (
    "size",
    "entry_bar",
    "exit_bar",
    "entry_price",
    "exit_price",
    "entry_time",
    "exit_time",
    "pnl",
    "return_pct",
    "commission",
)

#: The oracle's strategies: backtesting.py's base class and crossover.
BT = build(backtesting.Strategy, backtesting.lib.crossover)


@dataclass(frozen=True)
class Scenario:
    """One behavioural scenario: bars, strategy name, parameters, backtesting.py settings."""

    id: str
    data: Callable[[], pd.DataFrame]
    strategy: str
    params: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    symbol: str = "GOOG"
    #: engine -> the difference seen: those runs wait in pending/ (not collected).
    pending: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What a user reads off a run, in isoloop's names."""

    engine: str
    stats: Mapping[str, Any]
    trades: pd.DataFrame
    equity: np.ndarray


def bt_stats(
    data: pd.DataFrame,
    strategy: type,
    params: Mapping[str, Any] | None = None,
    **settings: Any,
) -> pd.Series:
    """backtesting.py's stats Series (trades closed at the end unless told otherwise)."""
    settings.setdefault("finalize_trades", True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats: pd.Series = backtesting.Backtest(data, strategy, **settings).run(
            **dict(params or {})
        )
    return stats


def from_bt(stats: pd.Series, engine: str = "backtesting.py") -> Outcome:
    ours = {STAT_KEYS[str(k)]: v for k, v in stats.items() if str(k) in STAT_KEYS}
    ours.setdefault("commissions", 0.0)  # backtesting.py hides the key when nothing was paid
    t = stats["_trades"]
    trades = pd.DataFrame({TRADE_COLUMNS[c]: t[c].to_numpy() for c in TRADE_COLUMNS if c in t})
    return Outcome(engine, ours, trades, stats["_equity_curve"]["Equity"].to_numpy(dtype=float))


def from_isoloop(result: Any, engine: str) -> Outcome:
    """A `NotebookResult` (or anything with `.stats`, `.trades`, `.result.equity`)."""
    if isinstance(result, pd.Series) and "_trades" in result.index:
        return from_bt(result, engine)
    equity = getattr(getattr(result, "result", None), "equity", None)
    if equity is None:
        equity = (
            result.equity["equity"] if isinstance(result.equity, pd.DataFrame) else result.equity
        )
    return Outcome(
        engine,
        dict(result.stats.items()),
        result.trades.reset_index(drop=True),
        np.asarray(equity, dtype=float),
    )


def bt_outcome(s: Scenario) -> Outcome:
    return from_bt(bt_stats(s.data(), getattr(BT, s.strategy), s.params, **s.settings))


def isoloop_settings(settings: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
    """backtesting.py's `Backtest` keywords as isoloop's (the venue and run keys)."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key == "trade_on_close":
            if value:
                out["fill"] = "close"
        elif key == "commission":
            out[key] = _commission_config(value)
        else:
            out[key] = value
    return out


def _commission_config(value: Any) -> Any:
    """backtesting.py's commission forms in isoloop's config spelling.

    A `(fixed, relative)` pair is the `fixed_relative` model and a function the
    `function` model naming it by class path (what a YAML config would say); the
    compat layer takes backtesting.py's own forms.
    """
    if isinstance(value, tuple):
        fixed, relative = value
        return {"model": "fixed_relative", "fixed": fixed, "relative": relative}
    if callable(value):
        return {"model": "function", "function": f"{value.__module__}:{value.__qualname__}"}
    return value


def native_result(s: Scenario) -> Any:
    """The `NotebookResult` of `isoloop.Backtest` running the scenario's native strategy."""
    module = importlib.import_module("support.scenario_strategies")
    cls = getattr(module, s.strategy)
    with tempfile.TemporaryDirectory() as tmp:
        settings = isoloop_settings(s.settings, Path(tmp))
        return isoloop.Backtest(s.data(), cls, symbol=s.symbol, **settings).run(**s.params)


def native_outcome(s: Scenario) -> Outcome:
    return from_isoloop(native_result(s), "isoloop native")


def compat_outcome(s: Scenario) -> Outcome:
    """The oracle's own strategy code over `isoloop.compat.backtesting` (the one-line port)."""
    compat = importlib.import_module("isoloop.compat.backtesting")
    lib = importlib.import_module("isoloop.compat.backtesting.lib")
    ns = build(compat.Strategy, lib.crossover)
    settings = dict(s.settings)
    settings.setdefault("finalize_trades", True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = compat.Backtest(s.data(), getattr(ns, s.strategy), **settings)
        result = bt.run(**dict(s.params))
    return from_isoloop(result, "isoloop compat")


# -- comparison ------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A stat as a float: Timedelta in days, Timestamp in ns; None when not a quantity.

    A missing duration is NaN whichever way an engine spells it (NaT or NaN).
    """
    if value is pd.NaT:
        return math.nan
    if isinstance(value, pd.Timedelta):
        return float(value / pd.Timedelta(days=1))
    if isinstance(value, pd.Timestamp):
        return float(value.value)
    if isinstance(value, np.timedelta64):
        return float(pd.Timedelta(value) / pd.Timedelta(days=1))
    if isinstance(value, np.datetime64):
        return float(pd.Timestamp(value).value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _close(a: float | None, b: float | None, rtol: float = RTOL) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-12)


def stat_differences(ours: Outcome, oracle: Outcome) -> list[str]:
    diffs = [f"stat {k}: missing in {ours.engine}" for k in CORE_STATS if k not in ours.stats]
    for key, expected in oracle.stats.items():
        if key not in ours.stats:
            continue
        a, b = _number(ours.stats[key]), _number(expected)
        if not _close(a, b):
            diffs.append(f"stat {key}: {ours.engine} {ours.stats[key]!r} != oracle {expected!r}")
    return diffs


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).tz_localize(None).value
    return value


def trade_differences(ours: Outcome, oracle: Outcome) -> list[str]:
    a, b = ours.trades, oracle.trades
    diffs = [
        f"trades column {c}: missing in {ours.engine}" for c in CORE_TRADE_COLUMNS if c not in a
    ]
    if len(a) != len(b):
        diffs.append(f"trades: {ours.engine} has {len(a)}, oracle {len(b)}")
    for i in range(min(len(a), len(b))):
        for col in b.columns:
            if col not in a:
                continue
            x, y = _cell(a[col].iloc[i]), _cell(b[col].iloc[i])
            if col == "tag":
                same = (x is None and y is None) or (
                    x is not None and y is not None and str(x) == str(y)
                )
            elif x is None or y is None:
                same = x is None and y is None
            else:
                same = _close(float(x), float(y))
            if not same:
                diffs.append(f"trade {i} {col}: {ours.engine} {x!r} != oracle {y!r}")
    return diffs


def equity_differences(ours: Outcome, oracle: Outcome) -> list[str]:
    a, b = ours.equity, oracle.equity
    if a.shape != b.shape:
        return [f"equity: {ours.engine} has {a.size} bars, oracle {b.size}"]
    bad = ~np.isclose(a, b, rtol=RTOL, atol=1e-9)
    if not bad.any():
        return []
    i = int(np.flatnonzero(bad)[0])
    return [f"equity: {int(bad.sum())} bars differ, first bar {i}: {a[i]!r} != oracle {b[i]!r}"]


def differences(ours: Outcome, oracle: Outcome) -> list[str]:
    return (
        trade_differences(ours, oracle)
        + equity_differences(ours, oracle)
        + stat_differences(ours, oracle)
    )


def assert_same(ours: Outcome, oracle: Outcome) -> None:
    diffs = differences(ours, oracle)
    assert not diffs, f"{len(diffs)} differences from backtesting.py:\n" + "\n".join(diffs[:25])


#: The isoloop engines every scenario runs in: its native strategy, and the oracle's
#: own code through the compat layer.
ENGINES = ("native", "compat")


def cases(scenarios: list[Scenario]) -> list[Any]:
    """(scenario, engine) parameters that equal the oracle (the committed tests)."""
    return [
        pytest.param(s, e, id=f"{s.id}-{e}")
        for s in scenarios
        for e in ENGINES
        if e not in s.pending
    ]


def pending_cases(scenarios: list[Scenario]) -> list[Any]:
    """(scenario, engine) parameters parked with the difference seen (pending/ runs them)."""
    return [
        pytest.param(s, e, id=f"{s.id}-{e}") for s in scenarios for e in ENGINES if e in s.pending
    ]


def run_engine(engine: str, scenario: Scenario) -> Outcome:
    """The scenario in isoloop: its native strategy, or the oracle's code through compat."""
    return native_outcome(scenario) if engine == "native" else compat_outcome(scenario)


def check(engine: str, scenario: Scenario, oracle: Outcome) -> Outcome:
    """Run `scenario` in isoloop (`engine`), assert it equals the oracle, return it."""
    ours = run_engine(engine, scenario)
    assert_same(ours, oracle)
    return ours
