"""Numbers behind a sweep report: parameter importances, neighbourhood (robustness)
means, the best-so-far line and the rule that thins a long optimization history.

Plain numpy over plain frames, so the report needs nothing from `sweep/`.

Importance (a main-effect variance decomposition, the first-order term of fANOVA):
for each parameter, the ok trials are grouped by its value (a numeric parameter
with more than `MAX_LEVELS` distinct values is cut into `MAX_LEVELS` equal-count
bins); the importance is the share of the objective's variance explained by the
group means, the correlation ratio eta^2 = sum_g n_g (mean_g - mean)^2 /
sum_i (y_i - mean)^2. The shares are then scaled to sum to 1 across parameters
(interactions are not attributed). It needs no model fit, so it is exact and
deterministic for a grid and an honest first look for a random or Optuna search.

Robustness: every parameter's values are put on an index scale (its sorted
distinct values, or the same equal-count bins); a trial's neighbourhood is every
ok trial within one step on every parameter's scale (itself included), and its
neighbourhood mean is the mean objective over it. A plateau keeps a high
neighbourhood mean; a lone spike's mean falls back towards its neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "HISTORY_POINTS",
    "MAX_LEVELS",
    "best_so_far",
    "history_keep",
    "level_codes",
    "neighbourhood_means",
    "param_importances",
    "scatter_keep",
]

#: Distinct values a numeric parameter may have before it is cut into equal-count bins.
MAX_LEVELS = 20
#: Most optimization-history markers drawn; see `history_keep` for which are kept.
HISTORY_POINTS = 2000

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def level_codes(column: pd.Series) -> tuple[IntArray, list[str]]:
    """Each row's step on the parameter's index scale, and the label of every step.

    Numeric columns with at most `MAX_LEVELS` distinct values (and every non-numeric
    column) use their sorted distinct values; longer numeric columns use
    `MAX_LEVELS` equal-count (quantile) bins, labelled by their value range.
    """
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    distinct = column.dropna().unique()
    if numeric and len(distinct) > MAX_LEVELS:
        numbers = column.astype(float)
        bins = pd.qcut(numbers, MAX_LEVELS, duplicates="drop")
        codes = np.asarray(bins.cat.codes, dtype=np.int64)
        # Label a bin by the smallest and largest value it holds (not qcut's edges).
        spans = numbers.groupby(codes).agg(["min", "max"])
        labels = [
            f"{lo:.4g}" if lo == hi else f"{lo:.4g}–{hi:.4g}"
            for lo, hi in spans.itertuples(index=False)
        ]
        return codes, labels
    ordered = sorted(distinct, key=lambda v: (float(v), "") if numeric else (0.0, str(v)))
    lookup = {v: i for i, v in enumerate(ordered)}
    codes = np.array([lookup.get(v, -1) for v in column], dtype=np.int64)
    # Floats as the shortest text that reads back the same (0.0 is "0", 0.002 "0.002").
    return codes, [f"{v:.12g}" if isinstance(v, float) else str(v) for v in ordered]


def param_importances(
    frame: pd.DataFrame, params: Sequence[str], values: FloatArray
) -> dict[str, float]:
    """Each parameter's share of the objective's main-effect variance (sums to 1, or all 0).

    `frame` holds the ok trials with a finite objective (`values`, same order).
    """
    raw: dict[str, float] = {}
    total = float(np.sum((values - values.mean()) ** 2)) if len(values) else 0.0
    for name in params:
        if total <= 0.0:
            raw[name] = 0.0
            continue
        codes, _ = level_codes(frame[name])
        counts = np.bincount(codes[codes >= 0]).astype(float)
        sums = np.bincount(codes[codes >= 0], weights=values[codes >= 0])
        seen = counts > 0
        means = sums[seen] / counts[seen]
        raw[name] = float(np.sum(counts[seen] * (means - values.mean()) ** 2) / total)
    scale = sum(raw.values())
    return {k: (v / scale if scale > 0 else 0.0) for k, v in raw.items()}


def neighbourhood_means(
    frame: pd.DataFrame, params: Sequence[str], values: FloatArray
) -> tuple[FloatArray, IntArray]:
    """Per trial: the mean objective of the trials within one step on every parameter
    (itself included), and how many trials that is.

    Trials are pooled into cells (one per combination of steps); each cell's sum and
    count are added over its 3^p neighbouring cells, so the cost grows with the
    number of cells, not with the square of the number of trials.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    if not params:
        return np.full(n, float(values.mean())), np.full(n, n, dtype=np.int64)
    # Shift steps by one (an unknown value, -1, becomes 0) and leave room for -1/+1
    # offsets, so a neighbour's code never wraps into another row of the grid.
    steps = np.stack([level_codes(frame[p])[0] + 1 for p in params], axis=1).astype(np.int64)
    radix = steps.max(axis=0) + 3
    weights = np.concatenate([[1], np.cumprod(radix[:-1])]).astype(np.int64)
    encoded = (steps + 1) @ weights
    keys, inverse = np.unique(encoded, return_inverse=True)
    sums = np.bincount(inverse, weights=values)
    counts = np.bincount(inverse).astype(np.int64)
    total_sum = np.zeros(len(keys))
    total_count = np.zeros(len(keys), dtype=np.int64)
    offsets = np.array(np.meshgrid(*[[-1, 0, 1]] * len(params), indexing="ij"))
    for shift in offsets.reshape(len(params), -1).T @ weights:
        target = keys + shift
        pos = np.minimum(np.searchsorted(keys, target), len(keys) - 1)
        hit = keys[pos] == target
        total_sum += np.where(hit, sums[pos], 0.0)
        total_count += np.where(hit, counts[pos], 0)
    return total_sum[inverse] / total_count[inverse], total_count[inverse]


def best_so_far(values: FloatArray, direction: str) -> FloatArray:
    """The best objective among trials 0..i, for every i (NaN until a value exists)."""
    if len(values) == 0:
        return values.copy()
    filled = np.where(np.isnan(values), -np.inf if direction == "maximize" else np.inf, values)
    best = (
        np.maximum.accumulate(filled) if direction == "maximize" else np.minimum.accumulate(filled)
    )
    return np.where(np.isinf(best), np.nan, best)


def history_keep(values: FloatArray, direction: str, limit: int = HISTORY_POINTS) -> IntArray:
    """Rows of the optimization history to draw as markers.

    All of them up to `limit`; above it, every trial that set a new best plus an
    evenly strided sample of the rest, `limit` in all (the best-so-far line itself is
    drawn from every trial: it only changes at the kept record-setting trials).
    """
    n = len(values)
    if n <= limit:
        return np.arange(n, dtype=np.int64)
    best = best_so_far(values, direction)
    prev = np.concatenate([[np.nan], best[:-1]])
    records = np.flatnonzero((best != prev) & ~np.isnan(best))
    room = max(limit - len(records), 1)
    stride = np.linspace(0, n - 1, room).round().astype(np.int64)
    return np.union1d(records, stride).astype(np.int64)


def scatter_keep(
    own: FloatArray, means: FloatArray, direction: str, limit: int = HISTORY_POINTS
) -> IntArray:
    """Rows of the robustness scatter to draw.

    All of them up to `limit`; above it, the best quarter-`limit` by neighbourhood mean,
    the best quarter-`limit` by own value, and an even stride of all trials for the
    rest, so both the plateaus and the spikes stay visible.
    """
    n = len(own)
    if n <= limit:
        return np.arange(n, dtype=np.int64)
    sign = 1.0 if direction == "maximize" else -1.0
    quarter = limit // 4
    top_means = np.argsort(-sign * means, kind="stable")[:quarter]
    top_own = np.argsort(-sign * own, kind="stable")[:quarter]
    stride = np.linspace(0, n - 1, limit - 2 * quarter).round().astype(np.int64)
    return np.union1d(np.union1d(top_means, top_own), stride).astype(np.int64)
