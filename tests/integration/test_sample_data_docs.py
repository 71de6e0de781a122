"""docs/data.md's "Sample data" table says what the bundled samples really hold.

The table is read from the docs and checked against the bars isoloop loads
(`sample:NAME`) and against backtesting.py's own frames, at test time: the
number of bars, the first and last timestamps, the frequency, and the number
of periods a year the annualized stats use.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from isoloop.data import SAMPLE_NAMES, load_frame
from isoloop.results.metrics import compute_stats

DOC = Path(__file__).resolve().parents[2] / "docs" / "data.md"
ROW = re.compile(
    r"^\| `sample:(\w+)` \| ([\d,]+) \| (\w+) \| ([\d\- :]+) \| ([\d\- :]+) \| [^|]+ \|$",
    re.MULTILINE,
)


def _section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Sample data")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _documented() -> dict[str, tuple[int, str, pd.Timestamp, pd.Timestamp]]:
    return {
        name: (int(bars.replace(",", "")), freq, pd.Timestamp(first), pd.Timestamp(last))
        for name, bars, freq, first, last in ROW.findall(_section())
    }


def _oracle(name: str) -> pd.DataFrame:
    import backtesting.test

    frame: pd.DataFrame = getattr(backtesting.test, name)
    return frame


def test_every_sample_is_documented() -> None:
    assert set(_documented()) == set(SAMPLE_NAMES)


@pytest.mark.parametrize("name", sorted(SAMPLE_NAMES))
def test_documented_span_and_bars_match_the_data(name: str) -> None:
    bars, _, first, last = _documented()[name]
    _, frame = load_frame(f"sample:{name}")
    oracle = _oracle(name)
    for index in (frame.index, oracle.index):
        assert len(index) == bars
        assert index[0] == first and index[-1] == last


@pytest.mark.parametrize("name", sorted(SAMPLE_NAMES))
def test_documented_frequency_matches_the_data(name: str) -> None:
    _, freq, _, _ = _documented()[name]
    index = load_frame(f"sample:{name}")[1].index
    steps = pd.Series(index[1:] - index[:-1])
    if freq == "daily":
        # One bar a day, never two; the longer steps are weekends and holidays.
        assert steps.min() == pd.Timedelta(days=1) and steps.mode()[0] == pd.Timedelta(days=1)
        assert (index.normalize() == index).all()
    elif freq == "hourly":
        assert steps.min() == pd.Timedelta(hours=1) and steps.mode()[0] == pd.Timedelta(hours=1)
        assert (steps < pd.Timedelta(days=4)).all()  # weekend gaps, nothing longer
    elif freq == "monthly":
        assert index.is_month_end.all()  # "dated its last day"
        months = index.year * 12 + index.month
        assert (np.diff(months) == 1).all()  # one bar per calendar month, none missing
    else:
        pytest.fail(f"docs/data.md: unknown frequency {freq!r} for sample:{name}")


@pytest.mark.parametrize(("name", "per_year"), [("GOOG", 252), ("EURUSD", 252), ("BTCUSD", 12)])
def test_documented_periods_a_year(name: str, per_year: int) -> None:
    section = " ".join(_section().split())
    if per_year == 252:
        assert "252 periods a year for GOOG and for EURUSD" in section
    else:
        assert "12 for BTCUSD" in section
    index = load_frame(f"sample:{name}")[1].index
    # An account that grows 0.1 % per period (per day; per month for BTCUSD): its
    # annualized return compounds that over the documented periods a year.
    if per_year == 12:
        period = np.arange(len(index))
    else:
        days = index.normalize()
        period = np.cumsum(np.r_[0, (days[1:] != days[:-1]).astype(int)])
    equity = 10_000 * 1.001**period
    trades = pd.DataFrame(
        {c: pd.Series(dtype="float64") for c in ("size", "entry_bar", "exit_bar", "pnl")}
    )
    stats = compute_stats(equity, index.to_numpy(), trades, equity)
    assert stats["return_ann_pct"] == pytest.approx((1.001**per_year - 1) * 100, rel=1e-9)
