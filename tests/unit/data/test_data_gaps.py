"""Which silences in a bar index are gaps: holes, not weekends, nights or holidays."""

from __future__ import annotations

import numpy as np
import pandas as pd
from backtesting.test import BTCUSD, EURUSD, GOOG

from isoloop.data import Bars
from isoloop.data.gaps import find_gaps, gap_warnings


def _index(stamps: pd.DatetimeIndex) -> np.ndarray:
    return stamps.as_unit("ns").to_numpy()


def test_business_days_with_weekends_and_a_holiday_have_no_gap() -> None:
    days = pd.bdate_range("2024-01-01", "2024-06-28").delete(10)  # a Monday holiday
    assert find_gaps(_index(days)) == []


def test_hourly_bars_over_weekends_have_no_gap_but_a_missing_week_is_one() -> None:
    hours = pd.date_range("2024-01-01", "2024-03-01", freq="h")
    fx = hours[hours.day_of_week < 5]  # Friday 23:00 → Monday 00:00: 49 h without bars
    assert find_gaps(_index(fx)) == []
    holed = fx[(fx < pd.Timestamp("2024-02-05")) | (fx >= pd.Timestamp("2024-02-12"))]
    (gap,) = find_gaps(_index(holed))
    assert gap.after == pd.Timestamp("2024-02-02 23:00")
    assert gap.before == pd.Timestamp("2024-02-12 00:00")


def test_daily_bars_missing_three_weeks_have_one_gap_named_with_its_dates() -> None:
    days = pd.bdate_range("2024-01-01", "2024-06-28")
    holed = days[(days < pd.Timestamp("2024-03-04")) | (days > pd.Timestamp("2024-03-22"))]
    frame = pd.DataFrame(
        {c: np.linspace(10, 20, len(holed)) for c in ("Open", "High", "Low", "Close")}
        | {"Volume": np.ones(len(holed))},
        index=holed,
    )
    (line,) = gap_warnings({"ACME": Bars.from_frame(frame, "ACME")})
    assert line.startswith("data 'ACME' has 1 gap in its bars (longest: 24 days")
    assert "2024-03-01 00:00 to 2024-03-25 00:00" in line


def test_the_sample_data_has_no_gap() -> None:
    for frame in (GOOG, EURUSD, BTCUSD):  # daily, hourly, monthly
        assert find_gaps(_index(pd.DatetimeIndex(frame.index))) == []
