"""The example SmaCross's `sma` gives exactly pandas' rolling mean (the oracle, run here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from isoloop.examples.sma_cross import sma


def _oracle(values: np.ndarray, n: int) -> np.ndarray:
    return pd.Series(values).rolling(n).mean().to_numpy()


@pytest.mark.parametrize("seed", range(4))
def test_sma_equals_pandas_rolling_mean_to_the_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(40):
        size, n = int(rng.integers(1, 1500)), int(rng.integers(1, 70))
        values = 100 * np.cumprod(1 + rng.normal(0, 0.02, size))
        if seed == 1:
            values[: size // 3] = 5.0  # a flat run: pandas returns the value itself
        if seed == 2:
            values = np.round(values, 2)
            values[rng.integers(0, size, 3)] = np.nan
        if seed == 3:
            values[rng.integers(0, size, 2)] = np.inf
        got = sma(values, n)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, _oracle(values, n))


def test_sma_reads_read_only_bars_and_windows_longer_than_the_data() -> None:
    values = np.linspace(1.0, 2.0, 9)
    values.flags.writeable = False
    np.testing.assert_array_equal(sma(values, 4), _oracle(values, 4))
    assert np.isnan(sma(values, 20)).all()
