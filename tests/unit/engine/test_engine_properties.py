"""Property tests: random order sequences never break the books or leave orders open."""

from __future__ import annotations

from typing import Any

import pytest
from backtesting.test import GOOG
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isoloop.engine import Strategy
from isoloop.model import TERMINAL_STATUSES, Side, TimeInForce
from support.harness import build, make_config, market

DATA = market(("GOOG", GOOG.iloc[:60]))

action = st.tuples(
    st.integers(1, 58),  # bar
    st.sampled_from(["market", "limit", "stop", "stop_limit", "close", "all_in", "cancel"]),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 40),  # units
    st.floats(-0.05, 0.05),  # price offset from the close
    st.sampled_from(list(TimeInForce)),
)


class RandomOrders(Strategy):
    def init(self) -> None:
        self.by_bar: dict[int, list[Any]] = {}
        for a in self.params["actions"]:
            self.by_bar.setdefault(a[0], []).append(a)
        self.checks = 0
        self.mine: list[Any] = []

    def on_bar(self, i: int) -> None:
        self.check(i)
        close = self.data.close_l[i]
        for _, kind, side, units, off, tif in self.by_bar.get(i, []):
            px = round(close * (1 + off), 2)
            if kind == "market":
                self.mine.append(self.order(side, units, tif=tif))
            elif kind == "limit":
                self.mine.append(self.order(side, units, limit=px, tif=tif))
            elif kind == "stop":
                self.mine.append(self.order(side, units, stop=px, tif=tif))
            elif kind == "stop_limit":
                self.mine.append(
                    self.order(side, units, stop=px, limit=round(px * 1.01, 2), tif=tif)
                )
            elif kind == "close":
                self.close()
            elif kind == "all_in":
                self.order(side, None)
            elif kind == "cancel" and self.mine:
                self.cancel(self.mine[units % len(self.mine)])

    def check(self, i: int) -> None:
        venue = self.params["venue"]()
        assert self.clock.bar == i
        books_value = self.books.equity()
        assert books_value == pytest.approx(venue.equity(i), rel=1e-12, abs=1e-9)
        assert self.books.cash["sim"] == pytest.approx(venue.reported_cash(), abs=1e-9)
        assert dict(self.books.positions) == venue.positions
        self.checks += 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    actions=st.lists(action, min_size=1, max_size=25),
    commission=st.sampled_from(
        [0.0, 0.001, {"model": "per_share", "per_share": 0.01, "minimum": 1.0}]
    ),
    volume_limit=st.sampled_from([None, 1e-6, 0.5]),
    finalize=st.booleans(),
)
def test_random_orders_keep_books_equal_to_the_venue(
    actions: list[Any], commission: Any, volume_limit: float | None, finalize: bool
) -> None:
    cfg = make_config(
        data__symbol="GOOG",
        venue__commission=commission,
        venue__fill={"volume_limit": volume_limit},
    )
    holder: dict[str, Any] = {}
    r = build(cfg, DATA, RandomOrders, {"actions": actions, "venue": lambda: holder["v"]})
    holder["v"] = r.venue
    r.engine._finalize = finalize
    out = r.engine.run()

    assert r.strategy.checks == 59
    last = len(out.equity) - 1
    # Books and venue agree at the end, and the vectorized equity curve is the books' value.
    assert r.positions.equity(last) == pytest.approx(r.venue.equity(last), rel=1e-12)
    assert out.equity[last] == pytest.approx(r.venue.equity(last), rel=1e-12)
    assert r.positions.venue_positions("sim") == r.venue.positions
    # No order is left in a non-terminal state.
    assert all(o.status in TERMINAL_STATUSES for o in r.execution.orders)
    assert not r.venue.working
    if finalize:
        assert all(q == 0 for q in r.venue.positions.values())
