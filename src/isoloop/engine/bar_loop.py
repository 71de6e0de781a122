"""The backtest's bar loop in its common case, compiled with the hot path.

`BacktestEngine` runs bars here when nothing watches them (no bar events on the bus,
no DEBUG bar records) and the run has one venue: a loop of a few comparisons per bar
that tools/compile.py turns into C, calling the strategy's `on_bar` (Python) and the
execution manager (compiled) directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from isoloop.engine.clock import SimulatedClock
from isoloop.engine.positions import PositionMonitor

__all__ = ["out_of_money", "run_bars"]


def run_bars(
    clock: SimulatedClock,
    books: PositionMonitor,
    on_bar: Callable[[int], object],
    process: Callable[[int], object],
    blocks: list[Any],
    working: list[Any],
    start: int,
    n: int,
) -> int | None:
    """Run bars `start..n-1`; return the bar where the account ran out of money, if any.

    Most bars have no working order: the execution manager is called only when its
    block queue or the venue's working list holds something."""
    for i in range(start, n):
        clock.bar = i
        if working or blocks:
            process(i)
        if out_of_money(books, i):
            return i
        on_bar(i)
    return None


def out_of_money(books: PositionMonitor, i: int) -> bool:
    """Whether the account has no equity left at bar `i`.

    `books.bust_*` hold the band of the one held symbol's close outside which equity
    is gone (checked without valuing the book); with no such band, the equity itself."""
    if not books.bust_known:
        return books.equity(i) <= 0
    closes = books.bust_closes
    # The two branches read alike but compile apart: in the tuple one the item is read
    # with no boxed index (growing data keeps its closes in a list).
    c: float = closes[i] if isinstance(closes, tuple) else closes[i]  # noqa: RUF034
    return c <= books.bust_low or c >= books.bust_high
