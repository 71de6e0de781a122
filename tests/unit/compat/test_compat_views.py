"""What `next()` reads off `self.position`, `self.trades`, `self.orders` and `self.equity`,
bar by bar, against backtesting.py reading the same things on the same bars."""

from __future__ import annotations

import warnings
from typing import Any

import backtesting
from backtesting.test import GOOG

from isoloop.compat import backtesting as compat

DATA = GOOG.iloc[:400]


def _num(x: Any) -> Any:
    """Prices and money to 6 significant decimals (both engines add in different orders)."""
    return None if x is None else float(f"{float(x):.10g}")


def probe(base: type, seen: list[tuple[Any, ...]]) -> type:
    """Places, cancels and closes on a schedule; records every view each bar."""

    class Probe(base):  # type: ignore[misc, valid-type]
        def init(self) -> None:
            pass

        def next(self) -> None:
            bar = len(self.data) - 1
            price = float(self.data.Close[-1])
            pos = self.position
            trades = sorted(
                (
                    t.size,
                    t.entry_bar,
                    _num(t.entry_price),
                    _num(t.pl),
                    _num(t.pl_pct),
                    _num(t.sl),
                    _num(t.tp),
                    t.tag,
                    _num(t.value),
                )
                for t in self.trades
            )
            orders = sorted(
                [
                    (
                        o.size,
                        _num(o.limit),
                        _num(o.stop),
                        _num(o.sl),
                        _num(o.tp),
                        o.is_contingent,
                        o.tag,
                        o.is_long,
                        o.is_short,
                    )
                    for o in self.orders
                ],
                key=repr,
            )
            seen.append(
                (
                    bar,
                    pos.size,
                    bool(pos),
                    pos.is_long,
                    pos.is_short,
                    _num(pos.pl),
                    _num(pos.pl_pct),
                    _num(self.equity),
                    trades,
                    orders,
                    len(self.closed_trades),
                )
            )
            step = bar % 40
            if step == 5:
                self.buy(size=0.3, sl=price * 0.9, tp=price * 1.15, tag="long")
            elif step == 8:
                self.buy(size=7, limit=price * 0.97, tag="dip")
            elif step == 15:
                self.sell(size=3, limit=price * 1.5)
            elif step == 18:
                for order in self.orders:
                    if not order.is_contingent:
                        order.cancel()
            elif step == 22 and self.trades:
                self.trades[0].close(0.5)
            elif step == 26 and self.trades:
                self.trades[-1].sl = price * 0.95
                self.trades[-1].tp = None
            elif step == 33:
                self.position.close(0.5)
            elif step == 37:
                self.position.close()

    return Probe


def test_views_read_in_next_equal_backtesting_py() -> None:
    ours: list[tuple[Any, ...]] = []
    theirs: list[tuple[Any, ...]] = []
    compat.Backtest(DATA, probe(compat.Strategy, ours)).run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtesting.Backtest(DATA, probe(backtesting.Strategy, theirs)).run()
    assert len(ours) == len(theirs) == len(DATA) - 1
    assert any(row[8] for row in theirs) and any(row[9] for row in theirs)
    assert any(row[10] for row in theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a == b, f"bar {b[0]}"
