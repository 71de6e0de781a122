"""The bar loop's out-of-money check (a precomputed band of the held symbol's close)
answers what valuing the whole account answers, bar by bar.

Integer prices, cash and units keep every product and sum exact, so the oracle
`equity(i) <= 0` has no rounding of its own to disagree with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from isoloop.data.bars import Bars, MarketData
from isoloop.engine import PositionMonitor, SimulatedClock
from isoloop.engine.bar_loop import out_of_money

_BARS = 12
_closes = st.lists(st.integers(1, 40), min_size=_BARS, max_size=_BARS)


def _data(a: list[int], b: list[int]) -> MarketData:
    index = pd.date_range("2024-01-01", periods=_BARS, freq="D")

    def frame(closes: list[int]) -> pd.DataFrame:
        c = np.asarray(closes, dtype=float)
        return pd.DataFrame(
            {"Open": c, "High": c, "Low": c, "Close": c, "Volume": np.ones(_BARS)}, index=index
        )

    return MarketData({"A": Bars.from_frame(frame(a), "A"), "B": Bars.from_frame(frame(b), "B")})


def _books(data: MarketData, cash: int, held: dict[str, int]) -> PositionMonitor:
    clock = SimulatedClock(data, primary="A")
    clock.bar = 0
    books = PositionMonitor(clock)
    books.open_account("sim", float(cash))
    for symbol, qty in held.items():
        books.apply("sim", ((f"sim:spot:{symbol}", float(qty)),), 0.0)
    return books


def _agrees(books: PositionMonitor) -> None:
    for i in range(_BARS):
        assert out_of_money(books, i) == (books.equity(i) <= 0), (i, books.positions)


@settings(max_examples=150, deadline=None)
@given(
    a=_closes,
    b=_closes,
    cash=st.integers(-500, 500),
    qty_a=st.integers(-30, 30),
    qty_b=st.integers(-30, 30),
)
def test_the_band_says_out_of_money_exactly_when_the_account_is_worth_nothing(
    a: list[int], b: list[int], cash: int, qty_a: int, qty_b: int
) -> None:
    # Flat, one position (long or short) and two positions (the band gives way to
    # valuing every position).
    for held in ({}, {"A": qty_a}, {"B": qty_b}, {"A": qty_a, "B": qty_b}):
        books = _books(_data(a, b), cash, held)
        _agrees(books)


@settings(max_examples=100, deadline=None)
@given(a=_closes, b=_closes, k=st.integers(0, _BARS - 1), qty=st.integers(-30, 30))
def test_an_account_worth_exactly_nothing_is_out_of_money(
    a: list[int], b: list[int], k: int, qty: int
) -> None:
    # Cash that the position's value cancels exactly at bar k: the band's edge.
    books = _books(_data(a, b), -qty * a[k], {"A": qty})
    assert out_of_money(books, k)
    _agrees(books)


@settings(max_examples=60, deadline=None)
@given(a=_closes, cash=st.integers(-500, 500), qty=st.integers(-30, 30))
def test_closes_kept_as_a_list_answer_as_a_tuple_does(a: list[int], cash: int, qty: int) -> None:
    # Growing data (a live feed) keeps its closes in lists; the check reads either.
    books = _books(_data(a, a), cash, {"A": qty})
    as_tuple = [out_of_money(books, i) for i in range(_BARS)]
    assert isinstance(books.bust_closes, tuple)
    books.bust_closes = list(books.bust_closes)
    assert [out_of_money(books, i) for i in range(_BARS)] == as_tuple
    _agrees(books)
