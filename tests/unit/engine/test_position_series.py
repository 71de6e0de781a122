"""A position log turned into a per-bar series: each bar's last logged value, carried
forward, the initial value before the first change — what a binary search per bar
gives (the reference here), by a faster path for logs in bar order."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hs

from support.harness import build, make_config, market
from support.scripted import Scripted, frame


def _reference(bars: list[int], vals: list[float], initial: float, n: int) -> np.ndarray:
    if not bars:
        return np.full(n, initial)
    idx = np.searchsorted(np.asarray(bars), np.arange(n), side="right") - 1
    values = np.asarray(vals, dtype=np.float64)
    return np.where(idx >= 0, values[np.maximum(idx, 0)], initial)


_POSITIONS = build(
    make_config(data__symbol="X"),
    market(("X", frame([(1.0, 1.0, 1.0, 1.0, 1.0)] * 3))),
    Scripted,
    {},
).positions


@settings(max_examples=300, deadline=None)
@given(
    n=hs.integers(1, 80),
    data=hs.data(),
    ordered=hs.booleans(),
)
def test_series_is_the_last_value_of_each_bar_carried_forward(n, data, ordered) -> None:
    bars = data.draw(hs.lists(hs.integers(0, n - 1), max_size=30))
    if ordered:
        bars.sort()
    vals = data.draw(hs.lists(hs.floats(-1e9, 1e9), min_size=len(bars), max_size=len(bars)))
    got = _POSITIONS._series(bars, vals, 7.5, n)
    assert np.array_equal(got, _reference(bars, vals, 7.5, n))
