"""Process workers get the bars' extra columns too, mapped read-only like OHLCV."""

from __future__ import annotations

import numpy as np
import pytest
from backtesting.test import GOOG

from isoloop.data.bars import Bars, MarketData
from isoloop.sweep.executors.base import MemmapHandle


def test_extra_columns_survive_the_shared_memory_handle() -> None:
    frame = GOOG.copy()
    frame["PE"] = np.linspace(10.0, 30.0, len(frame))
    frame["funding"] = np.where(np.arange(len(frame)) % 3 == 0, np.nan, 0.01)
    handle = MemmapHandle.write(MarketData({"GOOG": Bars.from_frame(frame, "GOOG")}))
    try:
        bars = handle.open()["GOOG"]
        assert list(bars.extra) == ["PE", "funding"]
        np.testing.assert_array_equal(bars.extra["PE"], frame["PE"].to_numpy())
        np.testing.assert_array_equal(bars.extra["funding"], frame["funding"].to_numpy())
        np.testing.assert_array_equal(bars.close, frame["Close"].to_numpy())
        with pytest.raises(ValueError, match="read-only"):
            bars.extra["PE"][0] = 0.0
    finally:
        handle.remove()


def test_plain_ohlcv_bars_have_no_extra_columns_after_the_handle() -> None:
    handle = MemmapHandle.write(MarketData({"GOOG": Bars.from_frame(GOOG, "GOOG")}))
    try:
        assert dict(handle.open()["GOOG"].extra) == {}
    finally:
        handle.remove()
