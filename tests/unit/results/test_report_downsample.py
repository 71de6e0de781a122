"""The report's stated downsampling rules and its drawdown spells, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from isoloop.results.report_downsample import aggregate_candles
from isoloop.results.report_panels import drawdowns


def test_candles_are_aggregated_as_longer_bars() -> None:
    index = pd.date_range("2024-01-01", periods=7, freq="min")
    bars = pd.DataFrame(
        {
            "Open": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            "High": [5.0, 9.0, 4.0, 6.0, 8.0, 7.0, 9.5],
            "Low": [0.5, 1.5, 0.1, 3.0, 2.0, 1.0, 6.0],
            "Close": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5],
            "Volume": [10.0, 20.0, np.nan, 40.0, 50.0, 60.0, np.nan],
        },
        index=index,
    )
    candles, bucket = aggregate_candles(bars, max_candles=3)
    # ceil(7 / 3) = 3 bars per candle: bars 0-2, 3-5, and the short last one, 6.
    assert bucket == 3
    assert list(candles.index) == [index[0], index[3], index[6]]
    assert candles["Open"].tolist() == [1.0, 4.0, 7.0]
    assert candles["High"].tolist() == [9.0, 8.0, 9.5]
    assert candles["Low"].tolist() == [0.1, 1.0, 6.0]
    assert candles["Close"].tolist() == [3.5, 6.5, 7.5]
    # Volume summed; a bucket with no volume at all stays unknown, not 0.
    assert candles["Volume"].iloc[:2].tolist() == [30.0, 150.0]
    assert np.isnan(candles["Volume"].iloc[2])


def test_short_series_are_drawn_bar_by_bar() -> None:
    bars = pd.DataFrame(
        {"Open": [1.0], "High": [2.0], "Low": [0.5], "Close": [1.5]},
        index=pd.DatetimeIndex(["2024-01-01"]),
    )
    candles, bucket = aggregate_candles(bars, max_candles=3)
    assert bucket == 1 and candles is bars


def test_drawdowns_run_from_the_peak_to_the_recovery() -> None:
    equity = np.array([100.0, 110.0, 99.0, 105.0, 111.0, 100.0, 120.0, 90.0])
    spells = drawdowns(equity)
    assert [(d.start, d.trough, d.end, d.recovered) for d in spells] == [
        (1, 2, 4, True),  # peak 110 at bar 1, trough 99, recovered at 111 on bar 4
        (4, 5, 6, True),
        (6, 7, 7, False),  # still under water at the last bar
    ]
    np.testing.assert_allclose([d.depth_pct for d in spells], [-10.0, (100 / 111 - 1) * 100, -25.0])
    assert drawdowns(np.array([1.0, 2.0, 3.0])) == []
