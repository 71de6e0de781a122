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


def _drawdown_segments(dd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each drawdown as (last zero-drawdown bar before it, bar it ends on).

    A drawdown ends on the next zero-drawdown bar or on the last bar; one that
    starts and ends on adjacent bars does not count (backtesting.py's rule).
    """
    zeros = np.flatnonzero(dd == 0)  # ascending, so only the last bar may need adding
    if not zeros.size or zeros[-1] != dd.size - 1:
        zeros = np.append(zeros, dd.size - 1)
    prev, end = zeros[:-1], zeros[1:]
    keep = end > prev + 1
    return prev[keep], end[keep]


def _avg_drawdown_peak(dd: np.ndarray, prev: np.ndarray, end: np.ndarray) -> float:
    """Mean of each drawdown's deepest point."""
    if not prev.size:
        nonzero = dd[(dd != 0) & ~np.isnan(dd)]
        return float(nonzero.mean()) if nonzero.size else _NAN
    # Segments [prev, end] are disjoint apart from shared endpoints; reduceat takes
    # maxima over [start_i, stop_i) so interleave starts and stops and keep every other one.
    padded = np.append(dd, 0.0)
    bounds = np.empty(2 * prev.size, dtype=np.intp)
    bounds[0::2] = prev
    bounds[1::2] = end + 1
    peaks = np.fmax.reduceat(padded, bounds)[0::2]
    peaks = peaks[~np.isnan(peaks)]
    return float(peaks.mean()) if peaks.size else _NAN


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
    # pandas' Timedelta mean: a float64 sum over the count, truncated to whole ns.
    mean_ns = int(np.int64(spans_ns.sum(dtype=np.float64) / spans_ns.size))
    return (
        _duration_days(int(spans_ns.max()), resolution_ns),
        _duration_days(mean_ns, resolution_ns),
    )


def _exposure(entry: np.ndarray, exit_: np.ndarray, n: int) -> float:
    """Share of bars (in %) covered by at least one trade's [entry_bar, exit_bar]."""
    if n == 0:
        return _NAN
    if entry.size == 0:
        return 0.0
    # +1 where a trade starts, -1 after it ends: bars with a positive running sum are covered.
    opens = np.bincount(np.minimum(np.maximum(entry, 0), n), minlength=n + 1)
    closes = np.bincount(np.minimum(np.maximum(exit_ + 1, 0), n), minlength=n + 1)
    return float((np.cumsum(opens[:n] - closes[:n]) > 0).mean() * 100)


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
    equity: np.ndarray, stamps: np.ndarray, calendar: Calendar
) -> tuple[np.ndarray, float]:
    """Equity returns at daily/weekly/monthly/yearly resolution and periods per year."""
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
        x -= x.mean(axis=1)[:, None]
        cov = np.dot(x, x.T.conj())
        cov *= np.true_divide(1, x.shape[1] - 1)
        return float(cov[0, 1] / cov[1, 1])


def _cagr_pct(equity: np.ndarray, span_ns: int) -> float:
    """Compound annual growth over the calendar span of the bars (years of 365.25 days)."""
    # `Timedelta.days` and `.seconds`: floored whole days, then whole seconds of the rest.
    days, rest_ns = divmod(span_ns, _DAY_NS)
    years = (days + rest_ns // 10**9 / 86_400) / 365.25
    if not years:
        return _NAN
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

    with np.errstate(divide="ignore", invalid="ignore"):
        dd = 1.0 - eq / np.maximum.accumulate(eq)

    columns, n_trades = _trade_columns(trades)
    empty = np.empty(0)
    pl = columns.get("pnl", empty)
    returns = columns.get("return_pct", empty)
    commission = columns.get("commission", empty)
    entry = columns.get("entry_bar", empty)
    exit_ = columns.get("exit_bar", empty)
    closed = ~np.isnan(entry) & ~np.isnan(exit_)
    exit_ = np.where(np.isnan(exit_), n - 1, exit_)

    span_ns = int(stamps[-1] - stamps[0])
    if calendar is None or calendar.size != n:
        calendar = Calendar.of(stamps)
    resolution = calendar.resolution
    dd_prev, dd_end = _drawdown_segments(dd)
    max_dd_days, avg_dd_days = _max_and_mean_days(stamps[dd_end] - stamps[dd_prev], resolution)
    # np.clip, written as maximum/minimum (the same values, without clip's overhead).
    held = np.minimum(np.maximum(exit_[closed], 0), n - 1).astype(np.int64)
    opened = np.minimum(np.maximum(entry[closed], 0), n - 1).astype(np.int64)
    max_trade_days, avg_trade_days = _max_and_mean_days(stamps[held] - stamps[opened], resolution)

    day_returns, annual = _period_returns(eq, stamps, calendar)
    gmean = geometric_mean(day_returns)
    annualized = (1.0 + gmean) ** annual - 1.0
    var = float(day_returns.var(ddof=1)) if day_returns.size > 1 else _NAN
    with np.errstate(invalid="ignore"):
        volatility = float(
            np.sqrt((var + (1 + gmean) ** 2) ** annual - (1 + gmean) ** (2 * annual)) * 100
        )
    return_ann_pct = annualized * 100
    downside = np.minimum(day_returns, 0.0)
    downside_dev = (
        np.float64(np.sqrt(np.mean(downside**2)) * np.sqrt(annual)) if downside.size else np.nan
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        sortino = float(np.float64(annualized - risk_free_rate) / downside_dev)
    dd_max = float(np.max(dd))
    max_dd = -_finite(dd_max)

    wins = returns[returns > 0].sum()
    losses = abs(returns[returns < 0].sum())
    pl_ok = pl[~np.isnan(pl)]
    pl_std = float(np.std(pl_ok, ddof=1)) if pl_ok.size > 1 else _NAN
    first = c[warmup_bars] if c.size > warmup_bars else _NAN
    return_pct = float((eq[-1] - eq[0]) / eq[0] * 100)
    buy_hold_pct = float((c[-1] - first) / first * 100) if c.size else _NAN
    beta = _beta(eq, c)
    win_rate = float((pl > 0).mean()) if n_trades else _NAN

    def nan_stat(values: np.ndarray, fn: str) -> float:
        finite = values[~np.isnan(values)]
        return float(getattr(np, fn)(finite)) if finite.size else _NAN

    stats: dict[str, float] = {
        "equity_final": float(eq[-1]),
        "equity_peak": float(eq.max()),
        "return_pct": return_pct,
        "buy_hold_return_pct": buy_hold_pct,
        "return_ann_pct": float(return_ann_pct),
        "volatility_ann_pct": volatility,
        "sharpe_ratio": float((return_ann_pct - risk_free_rate * 100) / _or_nan(volatility)),
        "sortino_ratio": sortino,
        "calmar_ratio": float(annualized / _or_nan(-max_dd)),
        "max_drawdown_pct": max_dd * 100,
        "avg_drawdown_pct": -_avg_drawdown_peak(dd, dd_prev, dd_end) * 100,
        "trades": n_trades,
        "win_rate_pct": win_rate * 100,
        "best_trade_pct": nan_stat(returns, "max") * 100,
        "worst_trade_pct": nan_stat(returns, "min") * 100,
        "avg_trade_pct": geometric_mean(returns) * 100,
        "profit_factor": float(wins / _or_nan(float(losses))),
        "expectancy_pct": nan_stat(returns, "mean") * 100,
        "sqn": float(np.sqrt(n_trades) * nan_stat(pl, "mean") / _or_nan(pl_std)),
        "exposure_pct": _exposure(entry.astype(np.int64), exit_.astype(np.int64), n),
        "commissions": float(commission.sum()) if commission.size else 0.0,
        "duration_days": float(span_ns / _DAY_NS),
        "cagr_pct": _cagr_pct(eq, span_ns),
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
        - (1 - win_rate) / (nan_stat(pl[pl > 0], "mean") / -nan_stat(pl[pl < 0], "mean")),
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
