"""Performance statistics of one run, with backtesting.py's formulas.

backtesting.py is the correctness oracle, so every stat uses the same
definitions (compounded annualization at the inferred bar frequency, geometric
mean trade return, drawdown peaks between equity highs, exposure in bars,
durations rounded up to the bars' resolution), but computed with NumPy in one
pass because it runs once per sweep trial. Every value is a number (durations
in days) so a sweep can store, sort and optimize any key; docs/results.md lists
each key with its unit and formula.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from isoloop.results import stats_kernels as kernels
from isoloop.results.digest import DIGEST_STATS_KEYS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["STATS_KEYS", "Calendar", "compute_stats", "geometric_mean", "stats_equal"]

#: The stats contract (DESIGN.md), in display order: the keys of the first release
#: (the ones run digests hash) and those added after it.
STATS_KEYS: tuple[str, ...] = (
    *DIGEST_STATS_KEYS,
    # Added after the first release; run digests hash only the keys above
    # (results.digest.DIGEST_STATS_KEYS), so earlier run folders still verify.
    "duration_days",
    "cagr_pct",
    "alpha_pct",
    "beta",
    "max_drawdown_duration_days",
    "avg_drawdown_duration_days",
    "max_trade_duration_days",
    "avg_trade_duration_days",
    "kelly_criterion",
)

_NAN = float("nan")
_INF = float("inf")
_MAX = float(np.finfo(np.float64).max)
_DAY_NS = 86_400 * 10**9
_NAT = int(np.iinfo(np.int64).min)  # pandas' NaT as an int64 Timedelta value
# The units of pandas' `Timedelta.resolution_string` in ns, smallest first: ns, us, ms,
# s, min, h, D.
_UNITS_NS: tuple[int, ...] = (1, 10**3, 10**6, 10**9, 60 * 10**9, 3_600 * 10**9, _DAY_NS)
_TRADE_COLUMNS = ("pnl", "return_pct", "commission", "entry_bar", "exit_bar")


def geometric_mean(returns: np.ndarray) -> float:
    """Per-period geometric mean of simple returns (NaN counted as 0; 0 if any loss ≤ -100%)."""
    values = np.asarray(returns, dtype="float64")
    # nan_to_num only when needed: it is most of the cost on a short array.
    growth = (values if np.isfinite(values).all() else np.nan_to_num(values, nan=0.0)) + 1.0
    if np.any(growth <= 0):
        return 0.0
    if growth.size == 0:
        return _NAN
    return float(np.exp(np.log(growth).sum() / growth.size) - 1.0)


def _finite(value: float) -> float:
    """NumPy's `nan_to_num` of one float: NaN → 0, ±inf → the largest finite float."""
    if math.isnan(value):
        return 0.0
    if value in (_INF, -_INF):
        return float(np.copysign(_MAX, value))
    return value


def _or_nan(value: float) -> float:
    """backtesting.py's `x or np.nan`: only an exact zero becomes NaN."""
    return _NAN if value == 0 else value


def _extreme(reduce: np.ufunc, values: np.ndarray) -> float:
    """np.max or np.min (`reduce`: np.maximum or np.minimum) of NaN-free values (NaN if none)."""
    return float(reduce.reduce(values)) if values.size else _NAN


def _resolution_ns(span_ns: int) -> int:
    """The length in ns of a duration's resolution: its smallest non-zero component's unit
    (pandas' `Timedelta.resolution_string`; 0 has whole days)."""
    size = abs(span_ns)
    for unit, larger in pairwise(_UNITS_NS):
        if size % larger:
            return unit
    return _DAY_NS


def _duration_days(span_ns: int, resolution_ns: int | None) -> float:
    """A duration given in ns, in days, first rounded up to the bars' resolution (NaT gives NaN).

    backtesting.py rounds its duration stats up to the resolution of the bar
    period (whole days for daily bars, hours for hourly ones), so the same
    rounding keeps the day counts equal to its Timedeltas. Integer arithmetic,
    exactly what pandas' `Timedelta.ceil` does, without building a Timedelta.
    """
    if span_ns == _NAT:
        return _NAN
    if resolution_ns is not None:
        span_ns = -(-span_ns // resolution_ns) * resolution_ns
    return float(span_ns / _DAY_NS)


def _max_and_mean_days(spans_ns: np.ndarray, resolution_ns: int | None) -> tuple[float, float]:
    """Longest and mean of durations given in ns, in days (NaN when there are none)."""
    if spans_ns.size == 0:
        return _NAN, _NAN
    # pandas' Timedelta mean: a float64 sum over the count, truncated to whole ns
    # (add.reduce is what ndarray.sum and .max call, without their Python wrappers).
    mean_ns = int(np.int64(np.add.reduce(spans_ns, dtype=np.float64) / spans_ns.size))
    return (
        _duration_days(int(np.maximum.reduce(spans_ns)), resolution_ns),
        _duration_days(mean_ns, resolution_ns),
    )


def _bar_period(stamps: np.ndarray) -> int | None:
    """The bars' spacing in ns: the median step over the last 100 bars (None for one bar)."""
    steps = np.diff(stamps[-100:])
    if steps.size == 0:
        return None
    # Truncated to whole ns, as pandas' median of Timedeltas is (a median of floats).
    if steps.min() == steps.max():  # evenly spaced bars, the usual case: no sort needed
        return int(np.int64(np.float64(steps[0])))
    return int(np.int64(np.median(steps.astype(np.float64))))


@dataclass(frozen=True, slots=True, eq=False)
class Calendar:
    """What the stats read off the bars' timestamps alone, worked out once per index.

    A sweep's trials share one index: `Calendar.of(index)` kept beside the shared
    data (`MarketData.derived`) spares each trial the bar period, the resolution,
    the weekday census and the day boundaries. `compute_stats` gives the same
    numbers with or without it.
    """

    size: int
    period: int | None  # the bars' spacing in ns (None: one bar)
    resolution: int | None  # the period's resolution in ns
    annual: float  # return periods per year
    rule: str  # D, W, ME or YE: the resolution the returns are taken at
    day_last: np.ndarray  # the last bar of each calendar day (read-only)

    @classmethod
    def of(cls, index: np.ndarray) -> Calendar:
        stamps = np.asarray(index, dtype="datetime64[ns]").view(np.int64)
        period = _bar_period(stamps)
        # Whole days of the bar period, floored as `Timedelta.days` is.
        freq_days = period // _DAY_NS if period is not None else 0
        # Day of the week, Monday 0 (1970-01-01 was a Thursday), as `DatetimeIndex.day_of_week`.
        weekday = (stamps // _DAY_NS + 3) % 7
        have_weekends = bool(((weekday >= 5).mean()) > 2 / 7 * 0.6)
        days = stamps.view("datetime64[ns]").astype("datetime64[D]")
        day_last = np.append(np.flatnonzero(days[1:] != days[:-1]), days.size - 1)
        day_last.flags.writeable = False
        return cls(
            size=int(stamps.size),
            period=period,
            resolution=_resolution_ns(period) if period is not None else None,
            annual={7: 52.0, 31: 12.0, 365: 1.0}.get(freq_days, 365.0 if have_weekends else 252.0),
            rule={7: "W", 31: "ME", 365: "YE"}.get(freq_days, "D"),
            day_last=day_last,
        )


def _period_returns(
    equity: np.ndarray, stamps: np.ndarray, calendar: Calendar, positive: bool
) -> tuple[np.ndarray, float]:
    """Equity returns at daily/weekly/monthly/yearly resolution and periods per year
    (`positive`: every equity value is positive and finite)."""
    if positive and calendar.rule == "D":
        # Ratios of positive finite closes neither warn nor give NaN: no errstate, no filter.
        # One bar a day (then day_last is every bar): the closes are the equity itself.
        closes = equity if calendar.day_last.size == equity.size else equity[calendar.day_last]
        returns = closes[1:] / closes[:-1]
        returns -= 1.0
        return returns, calendar.annual
    if calendar.rule == "D" and not np.isnan(equity).any():
        # Fast path: last equity of each calendar day (what resample("D").last() gives).
        closes = equity[calendar.day_last]
    else:
        import pandas as pd  # only weekly/monthly/yearly bars, or an equity curve with gaps

        index = pd.DatetimeIndex(stamps.view("datetime64[ns]"))
        series = pd.Series(equity, index=index).resample(calendar.rule).last()
        closes = series.dropna().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = closes[1:] / closes[:-1] - 1.0
    return returns[~np.isnan(returns)], calendar.annual


def _beta(equity: np.ndarray, close: np.ndarray) -> float:
    """Covariance of the equity's and the market's bar log returns over the market's variance."""
    if equity.size != close.size or equity.size < 3:
        return _NAN
    with np.errstate(divide="ignore", invalid="ignore"):
        # np.cov's own steps (a third of the stats' time went to its argument handling):
        # rows centred on their means, one X·Xᵀ product, scaled by 1/(n - 1) — the same
        # floats as np.cov(ours, market).
        x = np.empty((2, equity.size - 1))
        np.log(equity[1:] / equity[:-1], out=x[0])
        np.log(close[1:] / close[:-1], out=x[1])
        # x.mean(axis=1) is this row sum over the count (_methods._mean).
        x -= (np.add.reduce(x, axis=1) / x.shape[1])[:, None]
        cov = np.dot(x, x.T.conj())
        cov *= np.true_divide(1, x.shape[1] - 1)
        return float(cov[0, 1] / cov[1, 1])


def _cagr_pct(equity: np.ndarray, span_ns: int, positive: bool) -> float:
    """Compound annual growth over the calendar span of the bars (years of 365.25 days)."""
    # `Timedelta.days` and `.seconds`: floored whole days, then whole seconds of the rest.
    days, rest_ns = divmod(span_ns, _DAY_NS)
    years = (days + rest_ns // 10**9 / 86_400) / 365.25
    if not years:
        return _NAN
    if positive:  # a positive finite ratio: neither the division nor the power can warn
        growth = equity[-1] / equity[0]
        if growth > 0:
            return float((np.power(growth, 1.0 / years) - 1.0) * 100)
    with np.errstate(invalid="ignore", divide="ignore"):
        # NumPy's power, so a negative final equity gives NaN rather than a complex number.
        growth = np.float64(equity[-1]) / np.float64(equity[0])
        return float((np.power(growth, 1.0 / years) - 1.0) * 100)


def _trade_columns(
    trades: pd.DataFrame | Mapping[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], int]:
    """The numeric trade columns the stats read, as float64 arrays, and the trade count."""
    if hasattr(trades, "columns"):  # a DataFrame: the trades table as a run publishes it
        frame: pd.DataFrame = trades  # type: ignore[assignment]
        found = {
            name: np.asarray(frame[name].to_numpy(dtype="float64", na_value=np.nan))
            for name in _TRADE_COLUMNS
            if name in frame.columns
        }
        return found, len(frame)
    arrays = {
        name: np.asarray(trades[name], dtype="float64") for name in _TRADE_COLUMNS if name in trades
    }
    count = len(next(iter(trades.values()))) if trades else 0
    return arrays, count


def compute_stats(
    equity: np.ndarray,
    index: np.ndarray,
    trades: pd.DataFrame | Mapping[str, np.ndarray],
    close: np.ndarray,
    risk_free_rate: float = 0.0,
    *,
    warmup_bars: int = 0,
    calendar: Calendar | None = None,
) -> dict[str, float]:
    """The contract's stats of one run as plain floats (`trades` is an int).

    `equity` is the per-bar account value, `index` the bars' datetime64[ns]
    timestamps, `close` the primary instrument's closes, `trades` the closed trades
    (a table, or a mapping of column name to array: entry_bar, exit_bar, pnl,
    commission, return_pct; every other column is ignored) and
    `warmup_bars` the first bar a strategy could trade on (buy & hold starts there,
    as in backtesting.py) and `calendar` the index's `Calendar` when it is kept
    (worked out here otherwise).
    """
    if not -1 < risk_free_rate < 1:
        raise ValueError(f"risk_free_rate must be in (-1, 1), got {risk_free_rate}")
    eq = np.asarray(equity, dtype="float64")
    c = np.asarray(close, dtype="float64")
    stamps = np.asarray(index, dtype="datetime64[ns]").view(np.int64)
    n = eq.size
    if n == 0 or stamps.size != n:
        raise ValueError(f"equity ({n}) and index ({stamps.size}) must be non-empty and aligned")

    # The drawdowns with a trailing 0 that avg_drawdown_peak's reduceat reads past
    # the last bar; in-place ufuncs give the same floats as `1.0 - eq / running max`.
    padded = np.empty(n + 1)
    padded[n] = 0.0
    dd = padded[:n]
    lowest = float(np.minimum.reduce(eq, axis=None))
    if lowest > 0:  # no NaN, zero or negative value
        # Positive floats order as their bit patterns do as int64s, and the int64 running
        # max is about twice as fast: the same element, so the same bits, at every bar
        # (and its last is the element eq.max() gives).
        np.maximum.accumulate(eq.view(np.int64), out=dd.view(np.int64))
        peak = dd[-1]
    else:
        np.maximum.accumulate(eq, out=dd)
        peak = np.maximum.reduce(eq, axis=None)
    # Every value positive and finite: then no ratio of equities below divides by zero
    # or is invalid, and none needs an errstate.
    positive = lowest > 0 and float(peak) < _INF
    if positive:
        np.divide(eq, dd, out=dd)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(eq, dd, out=dd)
    np.subtract(1.0, dd, out=dd)

    columns, n_trades = _trade_columns(trades)
    empty = np.empty(0)
    pl = columns.get("pnl", empty)
    returns = columns.get("return_pct", empty)
    commission = columns.get("commission", empty)
    entry = columns.get("entry_bar", empty)
    exit_ = columns.get("exit_bar", empty)
    bar_sum = float(np.add.reduce(entry, axis=None)) + float(np.add.reduce(exit_, axis=None))
    if entry.size == exit_.size and not math.isnan(bar_sum):
        # No NaN bar (the sums would be NaN): every trade is closed, no exit to fill in.
        opened_at, held_to = entry, exit_
    else:
        closed = ~np.isnan(entry) & ~np.isnan(exit_)
        exit_ = np.where(np.isnan(exit_), n - 1, exit_)
        opened_at, held_to = entry[closed], exit_[closed]

    span_ns = int(stamps[-1] - stamps[0])
    if calendar is None or calendar.size != n:
        calendar = Calendar.of(stamps)
    resolution = calendar.resolution
    dd_prev, dd_end = kernels.drawdown_segments(dd)
    max_dd_days, avg_dd_days = _max_and_mean_days(stamps[dd_end] - stamps[dd_prev], resolution)
    # np.clip, written as maximum/minimum (the same values, without clip's overhead).
    held = np.minimum(np.maximum(held_to, 0), n - 1).astype(np.int64)
    opened = np.minimum(np.maximum(opened_at, 0), n - 1).astype(np.int64)
    max_trade_days, avg_trade_days = _max_and_mean_days(stamps[held] - stamps[opened], resolution)

    day_returns, annual = _period_returns(eq, stamps, calendar, positive)
    day_total = float(np.add.reduce(day_returns))
    gmean = kernels.gmean(day_returns, day_total)
    annualized = (1.0 + gmean) ** annual - 1.0
    var = kernels.var1(day_returns, day_total) if day_returns.size > 1 else _NAN
    # math.sqrt and np.sqrt are both correctly rounded; only a negative argument
    # differs (NaN from NumPy, an error from math), and NaN passes the test.
    spread = (var + (1 + gmean) ** 2) ** annual - (1 + gmean) ** (2 * annual)
    volatility = _NAN if spread < 0 else math.sqrt(spread) * 100
    return_ann_pct = annualized * 100
    downside_dev = _NAN
    if day_returns.size:
        # np.mean(np.minimum(r, 0) ** 2): ** 2 is np.square, the mean sum over count.
        downside = np.minimum(day_returns, 0.0)
        np.square(downside, out=downside)
        squares = kernels.mean(downside, float(np.add.reduce(downside)))
        downside_dev = math.sqrt(squares) * math.sqrt(annual)
    if downside_dev > 0:  # a Python division cannot divide by zero here: same float
        sortino = (annualized - risk_free_rate) / downside_dev
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            sortino = float(np.float64(annualized - risk_free_rate) / downside_dev)
    max_dd = -_finite(float(np.maximum.reduce(dd)))

    wins = np.add.reduce(returns[returns > 0])
    losses = abs(np.add.reduce(returns[returns < 0]))
    returns_ok, returns_total = kernels.without_nan(returns)
    if returns.ndim == 1:
        # A non-finite total sends gmean to its nan_to_num path, right with or without NaN.
        avg_trade = kernels.gmean(returns, returns_total if returns_ok is returns else _NAN)
    else:
        avg_trade = geometric_mean(returns)
    pl_ok, pl_total = kernels.without_nan(pl)
    pl_std = math.sqrt(kernels.var1(pl_ok, pl_total)) if pl_ok.size > 1 else _NAN
    first = c[warmup_bars] if c.size > warmup_bars else _NAN
    return_pct = float((eq[-1] - eq[0]) / eq[0] * 100)
    buy_hold_pct = float((c[-1] - first) / first * 100) if c.size else _NAN
    beta = _beta(eq, c)
    won, lost = pl[pl > 0], pl[pl < 0]  # never NaN, so their means need no filter
    win_rate = _NAN
    if n_trades:
        # The mean of `pl > 0` is its exact float64 count over the size.
        win_rate = won.size / pl.size if pl.size else float((pl > 0).mean())

    stats: dict[str, float] = {
        "equity_final": float(eq[-1]),
        "equity_peak": float(peak),
        "return_pct": return_pct,
        "buy_hold_return_pct": buy_hold_pct,
        "return_ann_pct": float(return_ann_pct),
        "volatility_ann_pct": volatility,
        "sharpe_ratio": float((return_ann_pct - risk_free_rate * 100) / _or_nan(volatility)),
        "sortino_ratio": sortino,
        "calmar_ratio": float(annualized / _or_nan(-max_dd)),
        "max_drawdown_pct": max_dd * 100,
        "avg_drawdown_pct": -kernels.avg_drawdown_peak(padded, dd_prev, dd_end) * 100,
        "trades": n_trades,
        "win_rate_pct": win_rate * 100,
        "best_trade_pct": _extreme(np.maximum, returns_ok) * 100,
        "worst_trade_pct": _extreme(np.minimum, returns_ok) * 100,
        "avg_trade_pct": avg_trade * 100,
        "profit_factor": float(wins / _or_nan(float(losses))),
        "expectancy_pct": kernels.mean(returns_ok, returns_total) * 100,
        "sqn": math.sqrt(n_trades) * kernels.mean(pl_ok, pl_total) / _or_nan(pl_std),
        "exposure_pct": kernels.exposure(entry, exit_, n),
        "commissions": float(np.add.reduce(commission, axis=None)) if commission.size else 0.0,
        "duration_days": float(span_ns / _DAY_NS),
        "cagr_pct": _cagr_pct(eq, span_ns, positive),
        "alpha_pct": return_pct
        - risk_free_rate * 100
        - beta * (buy_hold_pct - risk_free_rate * 100),
        "beta": beta,
        "max_drawdown_duration_days": max_dd_days,
        "avg_drawdown_duration_days": avg_dd_days,
        "max_trade_duration_days": max_trade_days,
        "avg_trade_duration_days": avg_trade_days,
        # Kelly fraction: win rate less loss rate over the average win/loss ratio.
        "kelly_criterion": win_rate
        - (1 - win_rate)
        / (
            kernels.mean(won, float(np.add.reduce(won)))
            / -kernels.mean(lost, float(np.add.reduce(lost)))
        ),
    }
    return {key: stats[key] for key in STATS_KEYS}


def stats_equal(a: Mapping[str, float], b: Mapping[str, float], rel: float = 1e-9) -> bool:
    """True when both have the same keys and every value matches (NaN equals NaN)."""
    if a.keys() != b.keys():
        return False
    for key in a:
        x, y = float(a[key]), float(b[key])
        if np.isnan(x) and np.isnan(y):
            continue
        if x != y and not abs(x - y) <= rel * max(abs(x), abs(y)):
            return False
    return True
