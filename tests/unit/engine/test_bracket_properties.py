"""Property tests for brackets, trades, margin and hedging under random strategies.

Whatever a strategy does with `sl=`/`tp=`, `trade.sl`/`trade.tp`, `trade.close()`,
`close(portion=)`, hedging, exclusive orders and leverage:
- a stop-loss or take-profit never fills before the trade it protects was
  entered, and never in the entry bar of a stop/limit entry;
- one-cancels-other: no trade has both its SL and its TP filled;
- after every bar the books equal the venue's account (cash, positions, equity)
  and each position is the sum of its open trades, on both sides;
- no order is left working at the end.
"""

from __future__ import annotations

from typing import Any

import pytest
from backtesting.test import GOOG
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isoloop.engine import Strategy
from isoloop.engine.bus import EventBus
from isoloop.errors import OrderArgumentError
from isoloop.model import TERMINAL_STATUSES, OrderStatus, OrderType, Side
from isoloop.model.events import Fill, FillEvent
from support.harness import build, make_config, market

DATA = market(("GOOG", GOOG.iloc[:80]))
BARS = 80

action = st.tuples(
    st.integers(1, BARS - 2),  # bar
    st.sampled_from(
        ["market", "limit", "stop", "fraction", "move_sl", "move_tp", "trade_close", "close_part"]
    ),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 30),  # units
    st.floats(0.005, 0.08),  # distance of SL/TP and of limit/stop prices from the close
    st.booleans(),  # with a stop-loss
    st.booleans(),  # with a take-profit
    st.sampled_from([0.25, 0.5, 1.0]),  # portion
)


class RandomBrackets(Strategy):
    def init(self) -> None:
        self.by_bar: dict[int, list[Any]] = {}
        for a in self.params["actions"]:
            self.by_bar.setdefault(a[0], []).append(a)
        self.checks = 0

    def on_bar(self, i: int) -> None:
        self.check(i)
        close = self.data.close_l[i]
        for _, kind, side, units, dist, with_sl, with_tp, portion in self.by_bar.get(i, []):
            s = side.sign
            sl = close * (1 - s * 2 * dist) if with_sl else None
            tp = close * (1 + s * 2 * dist) if with_tp else None
            try:
                if kind == "market":
                    self.order(side, units, sl=sl, tp=tp)
                elif kind == "fraction":
                    self.order(side, fraction=min(1.0, dist * 10), sl=sl, tp=tp)
                elif kind == "limit":
                    self.order(side, units, limit=close * (1 - s * dist / 2), sl=sl, tp=tp)
                elif kind == "stop":
                    self.order(side, units, stop=close * (1 + s * dist / 2), sl=sl, tp=tp)
                elif kind in ("move_sl", "move_tp") and self.trades:
                    trade = self.trades[units % len(self.trades)]
                    t = 1 if trade.is_long else -1
                    if kind == "move_sl":
                        trade.sl = close * (1 - t * dist) if with_sl else None
                    else:
                        trade.tp = close * (1 + t * dist) if with_tp else None
                elif kind == "trade_close" and self.trades:
                    self.trades[units % len(self.trades)].close(portion)
                elif kind == "close_part":
                    self.close(portion=portion)
            except OrderArgumentError:
                # SL/TP on the wrong side of the entry (a gap): refused before any
                # order exists; the invariants below must still hold.
                pass

    def check(self, i: int) -> None:
        venue = self.params["venue"]()
        assert self.books.equity() == pytest.approx(venue.equity(i), rel=1e-12, abs=1e-9)
        assert self.books.cash["sim"] == pytest.approx(venue.reported_cash(), abs=1e-9)
        assert dict(self.books.positions) == pytest.approx(venue.positions, abs=1e-9)
        # A position is the sum of its open trades, in the books and at the venue.
        for key, qty in self.books.positions.items():
            ours = sum(t.size for t in self.trades if t.venue == "sim")
            theirs = sum(t.size for t in venue.book.open if t.key == key)
            assert ours == pytest.approx(qty, abs=1e-9)
            assert theirs == pytest.approx(qty, abs=1e-9)
        self.checks += 1


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    actions=st.lists(action, min_size=1, max_size=30),
    margin=st.sampled_from([1.0, 0.5, 0.1]),
    hedging=st.booleans(),
    exclusive=st.booleans(),
    commission=st.sampled_from(
        [0.0, 0.002, {"model": "fixed_relative", "fixed": 1.0, "relative": 0.001}]
    ),
    spread=st.sampled_from([0.0, 0.0005]),
    on_close=st.booleans(),
)
def test_brackets_never_fill_early_never_both_and_books_equal_the_venue(
    actions: list[Any],
    margin: float,
    hedging: bool,
    exclusive: bool,
    commission: Any,
    spread: float,
    on_close: bool,
) -> None:
    cfg = make_config(
        data__symbol="GOOG",
        venue__cash=100_000,
        venue__margin=margin,
        venue__hedging=hedging,
        venue__exclusive_orders=exclusive,
        venue__commission=commission,
        venue__spread=spread,
        venue__fill={"on": "close" if on_close else "next_open"},
    )
    holder: dict[str, Any] = {}
    # Every fill, as the run's bus publishes it (the books are compiled classes: their
    # methods cannot be wrapped in place).
    bus = EventBus()
    fills: list[Fill] = []
    bus.subscribe(FillEvent, lambda event: fills.append(event.fill))
    r = build(
        cfg, DATA, RandomBrackets, {"actions": actions, "venue": lambda: holder["v"]}, bus=bus
    )
    holder["v"] = r.venue
    out = r.engine.run()

    # Every bar was checked, unless leverage ran the account out of money first.
    assert r.strategy.checks == BARS - 1 or out.equity[-1] == 0.0
    last = len(out.equity) - 1
    assert out.equity[last] == pytest.approx(r.venue.equity(last), rel=1e-12)
    assert r.position_updates.reconcile("sim") == []
    assert all(o.status in TERMINAL_STATUSES for o in r.execution.orders)
    assert not r.venue.working
    assert all(q == 0 for q in r.venue.positions.values()) and not r.venue.book.open

    orders = {o.id: o for o in r.execution.orders}
    opened: dict[str, Fill] = {}  # trade id → the fill that opened it (its first)
    for f in fills:
        if f.trade_id is not None:
            opened.setdefault(f.trade_id, f)
    filled_brackets: dict[str, list[str]] = {}
    for o in r.execution.orders:
        if not o.contingent or o.status is not OrderStatus.FILLED:
            continue
        assert o.parent_trade is not None
        entry = opened[o.parent_trade]
        entry_order = orders[entry.order_id]
        # Never before the entry; after a stop/limit entry, not even in its bar.
        assert o.last_fill_bar >= entry.bar
        if entry_order.type is not OrderType.MARKET:
            # A stop entry's take-profit inside the entry bar, its stop-loss outside
            # it, is the one unambiguous same-bar case (the price only went one way).
            clear_tp = entry_order.type is OrderType.STOP and o.type is OrderType.LIMIT
            assert o.last_fill_bar > entry.bar or clear_tp, (o, entry_order)
        filled_brackets.setdefault(o.parent_trade, []).append(o.id)
    # One-cancels-other: at most one of a trade's brackets ever fills.
    assert all(len(ids) == 1 for ids in filled_brackets.values()), filled_brackets
