"""`beta` is the covariance of the equity's and the market's log returns over the
market's variance, to the last bit of what `np.cov` gives (the stats compute it
without np.cov's argument handling)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hs

from isoloop.results.metrics import compute_stats


def _np_cov_beta(equity: np.ndarray, close: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = np.cov(np.log(equity[1:] / equity[:-1]), np.log(close[1:] / close[:-1]))
        return float(cov[0, 1] / cov[1, 1])


@settings(max_examples=200, deadline=None)
@given(
    n=hs.integers(3, 600),
    seed=hs.integers(0, 2**32 - 1),
    damage=hs.sampled_from(["none", "nan", "zero_tail", "flat_market"]),
)
def test_beta_is_np_cov_bit_for_bit(n: int, seed: int, damage: str) -> None:
    rng = np.random.default_rng(seed)
    equity = 1e4 * np.cumprod(1 + rng.normal(0, 0.02, n))
    close = 100 * np.cumprod(1 + rng.normal(0, 0.01, n))
    if damage == "nan":
        equity[rng.integers(0, n)] = np.nan
    elif damage == "zero_tail":
        equity[rng.integers(1, n) :] = 0.0
    elif damage == "flat_market":
        close[:] = 5.0
    index = np.datetime64("2020-01-01", "ns") + np.arange(n) * np.timedelta64(1, "D")
    beta = compute_stats(equity, index, {}, close)["beta"]
    expected = _np_cov_beta(equity, close)
    assert beta == expected or (np.isnan(beta) and np.isnan(expected))
