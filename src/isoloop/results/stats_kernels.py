"""The array kernels of `metrics.compute_stats`, to the last bit of the NumPy they replace.

`compute_stats` runs once per sweep trial on arrays of a few dozen to a few
thousand values, where the Python layers around the reductions (`np.mean` →
`_methods._mean`, `np.std` → `_methods._var`, `nan_to_num`, `np.any`) and the
passes over every bar cost more than the arithmetic. These kernels make the same
ufunc calls in the same order on the same arrays, or count the same integers
another way, so each gives exactly the float the plain form gives;
tests/unit/results/test_stats_kernels.py checks them against the plain NumPy.
They live apart from metrics.py to keep that module within its size limit.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "avg_drawdown_peak",
    "drawdown_segments",
    "exposure",
    "gmean",
    "mean",
    "var1",
    "without_nan",
]

_NAN = float("nan")


def without_nan(values: np.ndarray) -> tuple[np.ndarray, float]:
    """`values[~np.isnan(values)]` and its `np.add.reduce`, for a float64 array.

    The sum comes first: one that is not NaN proves there is no NaN to drop, and
    then the filter would only have copied the values into the same contiguous
    layout (so for a 1-D contiguous array, the array itself gives the same sums).
    """
    if values.ndim == 1 and values.flags.c_contiguous:
        total = float(np.add.reduce(values))
        if not math.isnan(total):
            return values, total
    kept = values[~np.isnan(values)]
    return kept, float(np.add.reduce(kept))


def mean(values: np.ndarray, total: float) -> float:
    """`float(np.mean(values))` of a 1-D float64 array whose `np.add.reduce` is `total`.

    np.mean is that sum over the count, one float64 division (NaN when empty, here
    without np.mean's warning).
    """
    return total / values.size if values.size else _NAN


def var1(values: np.ndarray, total: float) -> float:
    """`float(values.var(ddof=1))` of a 1-D float64 array of at least two values whose
    `np.add.reduce` is `total`.

    `_methods._var`'s steps: the mean as sum over count, the deviations from it
    squared (np.square) and summed, over n - 1.
    """
    dev = np.subtract(values, total / values.size)
    np.square(dev, out=dev)
    return float(np.add.reduce(dev)) / (values.size - 1)


def gmean(values: np.ndarray, total: float) -> float:
    """`metrics.geometric_mean(values)` of a 1-D float64 array whose `np.add.reduce` is `total`.

    A finite sum proves every value finite (a NaN or an infinity makes the sum NaN
    or infinite), which is geometric_mean's `isfinite(...).all()` test; nan_to_num
    of all-finite values changes none, so an infinite sum of finite values is safe
    too. growth then holds no NaN, so its minimum is ≤ 0 exactly when any value is.
    """
    if values.size == 0:
        return _NAN
    growth = (values if math.isfinite(total) else np.nan_to_num(values, nan=0.0)) + 1.0
    if np.minimum.reduce(growth) <= 0:
        return 0.0
    # np.log into a new array, as geometric_mean takes it: its SIMD and scalar loops
    # need not agree to the last bit, so the call stays the same one.
    return float(np.exp(np.add.reduce(np.log(growth)) / growth.size) - 1.0)


def drawdown_segments(dd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each drawdown as (last zero-drawdown bar before it, bar it ends on).

    A drawdown ends on the next zero-drawdown bar or on the last bar; one that
    starts and ends on adjacent bars does not count (backtesting.py's rule).
    """
    # The zero-drawdown bars, ascending, with the last bar always among them.
    is_end = dd == 0
    is_end[-1] = True
    zeros = is_end.nonzero()[0]
    prev, end = zeros[:-1], zeros[1:]
    keep = end > prev + 1
    return prev[keep], end[keep]


def avg_drawdown_peak(padded: np.ndarray, prev: np.ndarray, end: np.ndarray) -> float:
    """Mean of each drawdown's deepest point (`padded`: the drawdowns and a trailing 0)."""
    if not prev.size:
        dd = padded[:-1]
        nonzero = dd[(dd != 0) & ~np.isnan(dd)]
        return mean(nonzero, float(np.add.reduce(nonzero)))
    # Segments [prev, end] are disjoint apart from shared endpoints; reduceat takes
    # maxima over [start_i, stop_i) so interleave starts and stops and keep every other one.
    bounds = np.empty(2 * prev.size, dtype=np.intp)
    bounds[0::2] = prev
    bounds[1::2] = end + 1
    # Never NaN: every segment starts on a zero-drawdown bar, and fmax skips NaN. The
    # copy is the contiguous array a NaN filter would give, so the sum is the same.
    peaks = np.fmax.reduceat(padded, bounds)[0::2].copy()
    return mean(peaks, float(np.add.reduce(peaks)))


def exposure(entry: np.ndarray, exit_: np.ndarray, n: int) -> float:
    """Share of bars (in %) covered by at least one trade's [entry_bar, exit_bar]
    (the bars as float64, cast to int64 here)."""
    if n == 0:
        return _NAN
    if entry.size == 0:
        return 0.0
    if entry.shape != exit_.shape or entry.ndim != 1:
        # +1 where a trade starts, -1 after it ends: bars with a positive running sum are covered.
        opens = np.bincount(np.minimum(np.maximum(entry.astype(np.int64), 0), n), minlength=n + 1)
        closes = np.bincount(
            np.minimum(np.maximum(exit_.astype(np.int64) + 1, 0), n), minlength=n + 1
        )
        return float((np.cumsum(opens[:n] - closes[:n]) > 0).mean() * 100)
    # The same count without a pass over every bar. With the starts S and the ends + 1 T
    # each sorted on its own (both clipped to [0, n]), bar b has more starts at or
    # before it than ends before it exactly when S[k] <= b < T[k] for some k: the
    # covered bars are the union of the [S[k], T[k]), whose starts and ends both ascend,
    # so interval k adds T[k] - max(S[k], T[k - 1]) bars when that is positive.
    bars = np.empty((2, entry.size), dtype=np.int64)
    bars[0] = entry  # the same unsafe cast as astype(np.int64)
    bars[1] = exit_
    bars[1] += 1
    np.maximum(bars, 0, out=bars)
    np.minimum(bars, n, out=bars)
    bars.sort(axis=1)
    starts, stops = bars
    np.maximum(starts[1:], stops[:-1], out=starts[1:])
    np.subtract(stops, starts, out=stops)
    np.maximum(stops, 0, out=stops)
    # An exact count of bars; the bool mean it replaces is that count over n, in float64.
    return int(np.add.reduce(stops)) / n * 100
