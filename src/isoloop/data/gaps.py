"""Gaps in a symbol's bars: stretches of time where bars are missing, said out loud.

A run on data with a hole still computes (the engine steps from bar to bar), but
its drawdown durations, annualized figures and any indicator window span time the
data does not cover. Which silences count as a gap has to leave the ones every
market has alone — weekends, holidays, the night between two sessions — so an
interval between consecutive bars is a gap only when it is longer than BOTH

- `GAP_MEDIAN_MULTIPLE` times the median interval (the data's own bar spacing:
  daily bars → more than 10 days, weekly → more than 70 days), and
- `GAP_MIN_DAYS` calendar days (a long weekend plus a holiday is at most four, so
  intraday and hourly data are not flagged for nights and weekends, only for a
  missing day or more beyond that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from isoloop.data.bars import Bars

__all__ = ["GAP_MEDIAN_MULTIPLE", "GAP_MIN_DAYS", "Gap", "find_gaps", "gap_warnings"]

GAP_MEDIAN_MULTIPLE = 10.0
GAP_MIN_DAYS = 4.0
_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True, slots=True)
class Gap:
    """Bars missing between `after` and `before` (the two bars around the hole)."""

    after: pd.Timestamp
    before: pd.Timestamp

    @property
    def days(self) -> float:
        return (self.before - self.after) / pd.Timedelta(days=1)


def find_gaps(index: np.ndarray) -> list[Gap]:
    """The gaps of a sorted datetime64[ns] index, oldest first (see the module's rule)."""
    if index.shape[0] < 3:
        return []
    steps = np.diff(index.view("int64"))
    threshold = max(GAP_MEDIAN_MULTIPLE * float(np.median(steps)), GAP_MIN_DAYS * _DAY_NS)
    where = np.flatnonzero(steps > threshold)
    return [Gap(pd.Timestamp(index[i]), pd.Timestamp(index[i + 1])) for i in where]


def gap_warnings(bars: Mapping[str, Bars]) -> list[str]:
    """One line per symbol with gaps: how many, and the longest with its dates."""
    out: list[str] = []
    for symbol in sorted(bars):
        gaps = find_gaps(bars[symbol].index)
        if not gaps:
            continue
        longest = max(gaps, key=lambda g: g.days)
        out.append(
            f"data {symbol!r} has {len(gaps)} gap{'s' if len(gaps) > 1 else ''} in its bars "
            f"(longest: {longest.days:g} days without a bar, {longest.after:%Y-%m-%d %H:%M} to "
            f"{longest.before:%Y-%m-%d %H:%M}); indicators and durations span the missing "
            "time — fill the data or cut the run with `data.start`/`data.end`"
        )
    return out
