"""The stats kernels give the very bits of the plain NumPy they stand in for.

`compute_stats` skips NumPy's wrappers (np.mean, np.std, errstate, a cumsum over
every bar) on its hot path; run digests hash the stats, so each replacement must
give the same float, not a close one. Every reference here is the plain NumPy
expression (or a loop over the segments), compared by the bytes of the float64.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp

from isoloop.results import stats_kernels as kernels
from isoloop.results.metrics import Calendar, compute_stats, geometric_mean


def _bits(value: float) -> bytes:
    return np.float64(value).tobytes()


_ANY = hs.floats(allow_nan=True, allow_infinity=True, width=64)
_RETURNS = hs.one_of(
    hs.floats(-2.0, 2.0), hs.just(float("nan")), hs.just(float("inf")), hs.just(-1.0), _ANY
)


def _arrays(elements: hs.SearchStrategy[float]) -> hs.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, hs.integers(0, 300), elements=elements)


@settings(max_examples=300, deadline=None)
@given(values=_arrays(hs.one_of(hs.floats(-1e6, 1e6), _ANY)), strided=hs.booleans())
def test_mean_var_std_of_the_nan_free_values(values: np.ndarray, strided: bool) -> None:
    if strided:  # a view that is not contiguous takes the filtering path
        values = np.repeat(values, 2)[::2]
    expected = values[~np.isnan(values)]
    with np.errstate(all="ignore"):  # sums of infinities warn, in both forms alike
        kept, total = kernels.without_nan(values)
        assert kept.tobytes() == expected.tobytes()
        if expected.size:
            assert _bits(kernels.mean(kept, total)) == _bits(np.mean(expected))
        else:
            assert math.isnan(kernels.mean(kept, total))
        if expected.size > 1:
            var = kernels.var1(kept, total)
            assert _bits(var) == _bits(np.var(expected, ddof=1))
            assert _bits(math.sqrt(var)) == _bits(np.std(expected, ddof=1))


@settings(max_examples=300, deadline=None)
@given(values=_arrays(_RETURNS), known_sum=hs.booleans())
def test_gmean_is_geometric_mean(values: np.ndarray, known_sum: bool) -> None:
    with np.errstate(all="ignore"):
        total = float(np.add.reduce(values)) if known_sum else float("nan")
        assert _bits(kernels.gmean(values, total)) == _bits(geometric_mean(values))


def _bincount_exposure(entry: np.ndarray, exit_: np.ndarray, n: int) -> float:
    """+1 at each start, -1 after each end, over every bar (the form exposure replaces)."""
    opens = np.bincount(np.clip(entry.astype(np.int64), 0, n), minlength=n + 1)
    closes = np.bincount(np.clip(exit_.astype(np.int64) + 1, 0, n), minlength=n + 1)
    return float(np.mean(np.cumsum(opens[:n] - closes[:n]) > 0) * 100)


@settings(max_examples=300, deadline=None)
@given(
    n=hs.integers(1, 400),
    bars=hs.lists(hs.tuples(hs.integers(-20, 420), hs.integers(-20, 420)), max_size=60),
    nan_entry=hs.booleans(),
    fractional=hs.booleans(),
)
def test_exposure_is_the_count_over_every_bar(
    n: int, bars: list[tuple[int, int]], nan_entry: bool, fractional: bool
) -> None:
    entry = np.array([b[0] for b in bars], dtype=np.float64)
    exit_ = np.array([b[1] for b in bars], dtype=np.float64)
    if fractional:  # bar numbers that are not whole, truncated by the int64 cast
        entry += 0.5
        exit_ -= 0.25
    if nan_entry and entry.size:
        entry[0] = np.nan  # an int64 cast of NaN, clipped to bar 0 by both forms
    with np.errstate(invalid="ignore"):
        expected = _bincount_exposure(entry, exit_, n) if entry.size else 0.0
        assert _bits(kernels.exposure(entry, exit_, n)) == _bits(expected)


def _segments_reference(dd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    zeros = list(np.flatnonzero(dd == 0))
    if not zeros or zeros[-1] != dd.size - 1:
        zeros.append(dd.size - 1)
    pairs = [(a, b) for a, b in pairwise(zeros) if b > a + 1]
    return np.array([a for a, _ in pairs], dtype=np.intp), np.array([b for _, b in pairs])


@settings(max_examples=300, deadline=None)
@given(
    dd=hnp.arrays(
        np.float64,
        hs.integers(1, 300),
        elements=hs.one_of(
            hs.just(0.0), hs.just(-0.0), hs.floats(-0.5, 1.0), hs.just(float("nan"))
        ),
    )
)
def test_drawdown_segments_and_mean_peak(dd: np.ndarray) -> None:
    prev, end = kernels.drawdown_segments(dd)
    ref_prev, ref_end = _segments_reference(dd)
    assert prev.tolist() == ref_prev.tolist()
    assert end.tolist() == ref_end.tolist()
    padded = np.append(dd, 0.0)
    with np.errstate(all="ignore"):
        if prev.size:
            peaks = [np.nanmax(dd[a : b + 1]) for a, b in zip(prev, end, strict=True)]
            expected = float(np.mean(peaks))
        else:
            nonzero = dd[(dd != 0) & ~np.isnan(dd)]
            expected = float(np.mean(nonzero)) if nonzero.size else float("nan")
    assert _bits(kernels.avg_drawdown_peak(padded, prev, end)) == _bits(expected)


@settings(max_examples=150, deadline=None)
@given(
    seed=hs.integers(0, 2**32 - 1),
    n=hs.integers(1, 500),
    trades=hs.integers(0, 40),
    damage=hs.sampled_from(["none", "nan", "zero", "negative", "inf", "tiny"]),
)
def test_compute_stats_matches_plain_numpy(seed: int, n: int, trades: int, damage: str) -> None:
    rng = np.random.default_rng(seed)
    equity = 1e4 * np.cumprod(1 + rng.normal(0, 0.02, n))
    # One bad bar before the last (a later one's return is then -100%: no overflowing
    # ** annual, which raises in Python), or a tail of zeros or of the smallest float.
    at = int(rng.integers(0, max(n - 1, 1)))
    if damage in ("nan", "inf"):
        equity[at] = np.nan if damage == "nan" else np.inf
    elif damage in ("zero", "tiny"):
        equity[at:] = 0.0 if damage == "zero" else 5e-324
    if damage == "negative":  # a negative running max; crossing zero would overflow ** annual
        equity = -equity
    pl = rng.normal(0, 100, trades)
    ret = rng.normal(0, 0.05, trades)
    if trades and rng.random() < 0.3:
        pl[0] = ret[-1] = np.nan
    entry = np.sort(rng.integers(0, n, trades)).astype(np.float64)
    table = {
        "pnl": pl,
        "return_pct": ret,
        "commission": rng.random(trades),
        "entry_bar": entry,
        "exit_bar": np.minimum(entry + rng.integers(0, 20, trades), n - 1),
    }
    index = pd.date_range("2021-01-01", periods=n, freq="D").to_numpy()
    close = 100 * np.cumprod(1 + rng.normal(0, 0.01, n))
    with np.errstate(all="ignore"):  # the damaged curves' ratios warn, as they always did
        stats = compute_stats(equity, index, table, close, 0.01)
        dd = 1.0 - equity / np.maximum.accumulate(equity)
        ok_ret, ok_pl = ret[~np.isnan(ret)], pl[~np.isnan(pl)]
        expected = {
            "equity_peak": float(np.max(equity)),
            "max_drawdown_pct": -float(np.nan_to_num(np.max(dd))) * 100,
            "best_trade_pct": float(np.max(ok_ret)) * 100 if ok_ret.size else np.nan,
            "worst_trade_pct": float(np.min(ok_ret)) * 100 if ok_ret.size else np.nan,
            "expectancy_pct": float(np.mean(ok_ret)) * 100 if ok_ret.size else np.nan,
            "win_rate_pct": float(np.mean(pl > 0)) * 100 if trades else np.nan,
            "sqn": float(
                np.sqrt(trades)
                * (np.mean(ok_pl) if ok_pl.size else np.nan)
                / ((np.std(ok_pl, ddof=1) or np.nan) if ok_pl.size > 1 else np.nan)
            ),
        }
        if damage in ("none", "tiny"):  # one bar a day, every value positive: daily returns
            r = equity[1:] / equity[:-1] - 1.0
            g = geometric_mean(r)
            annual = Calendar.of(index).annual
            var = float(r.var(ddof=1)) if r.size > 1 else np.nan
            spread = (var + (1 + g) ** 2) ** annual - (1 + g) ** (2 * annual)
            expected["volatility_ann_pct"] = float(np.sqrt(spread) * 100)
            down = np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)) * np.sqrt(annual) if r.size else np.nan
            annualized = (1.0 + g) ** annual - 1.0
            expected["sortino_ratio"] = float(np.float64(annualized - 0.01) / down)
    for key, value in expected.items():
        assert _bits(stats[key]) == _bits(value), key
