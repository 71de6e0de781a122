"""Order ids: `O` and the run's order number, zero-padded to seven digits and never cut."""

from __future__ import annotations

import pytest
from backtesting.test import GOOG

from isoloop.engine import Strategy
from isoloop.model.orders import Side
from support.harness import build, make_config, market


class _Idle(Strategy):
    def on_bar(self, i: int) -> None:
        pass


@pytest.mark.parametrize("last", [0, 8, 99, 999_998, 9_999_998, 99_999_999, 123_456_788])
def test_order_ids_are_the_order_number_padded_to_seven_digits(last: int) -> None:
    run = build(make_config(data__symbol="GOOG"), market(("GOOG", GOOG.iloc[:5])), _Idle)
    run.execution.continue_ids(last)
    ids = [run.execution.new_order("GOOG", Side.BUY, 1.0).id for _ in range(3)]
    assert ids == [f"O{n:07d}" for n in range(last + 1, last + 4)]
