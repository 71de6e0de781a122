"""The direct encoder of order records writes exactly `canonical_json`'s bytes.

`order_list_hash` (in every published digest) encodes `Order.to_record` records
without json.dumps; any byte of difference would change every run's digest.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from isoloop.model.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from isoloop.results.digest import (
    canonical_json,
    order_json,
    order_list_hash,
    order_list_hash_of,
    order_record_json,
)

_floats = st.floats(allow_nan=True, allow_infinity=True)
_maybe_float = st.none() | _floats
# Names with quotes, backslashes, control and non-ASCII characters: the escaper must agree.
_names = st.text(min_size=1, max_size=12)


@st.composite
def orders(draw: st.DrawFn) -> Order:
    order = Order(
        draw(_names),
        draw(_names),
        draw(st.sampled_from(Side)),
        draw(_floats),
        venue=draw(_names),
        type=draw(st.sampled_from(OrderType)),
        tif=draw(st.sampled_from(TimeInForce)),
        limit=draw(_maybe_float),
        stop=draw(_maybe_float),
        equity_fraction=draw(_maybe_float),
        submitted_bar=draw(st.integers(-1, 10**12)),
        reduce_only=draw(st.booleans()),
        sl=draw(_maybe_float),
        tp=draw(_maybe_float),
        parent_trade=draw(st.none() | _names),
        contingent=draw(st.booleans()),
    )
    order.status = draw(st.sampled_from(OrderStatus))
    order.filled = draw(_floats)
    order.avg_price = draw(_floats)
    order.last_fill_bar = draw(st.integers(-(2**70), 2**70))
    return order


@settings(max_examples=300, deadline=None)
@given(orders())
def test_an_order_record_encodes_to_the_canonical_json_bytes(order: Order) -> None:
    record = order.to_record()
    assert order_record_json(record) == canonical_json(record)


@settings(max_examples=300, deadline=None)
@given(st.lists(orders(), max_size=4))
def test_an_order_read_directly_encodes_to_its_records_canonical_bytes(batch: list[Order]) -> None:
    """What a run hashes (the orders themselves) is what verify hashes (their records)."""
    for order in batch:
        assert order_json(order) == canonical_json(order.to_record())
    assert order_list_hash_of(batch) == order_list_hash([o.to_record() for o in batch])


def test_values_of_other_types_and_other_key_sets_take_the_general_encoder() -> None:
    import numpy as np

    record = Order("O1", "GOOG", Side.BUY, 3.0).to_record()
    odd: dict[str, Any] = dict(record, size=np.float64(3.0), filled=np.int64(2))
    assert order_record_json(odd) == canonical_json(odd)
    assert '"size":3.0' in order_record_json(odd)
    extra = dict(record, note=["a", 1])
    assert order_record_json(extra) == canonical_json(extra)
    nonfinite = dict(record, limit=math.inf, stop=-math.inf, avg_price=math.nan)
    text = order_record_json(nonfinite)
    assert '"limit":"Infinity"' in text and '"stop":"-Infinity"' in text
    assert text == canonical_json(nonfinite)


def test_the_order_list_hash_of_a_known_order_is_unchanged() -> None:
    # Golden: the hash of this one-order list as published before the direct encoder.
    order = Order("O0000001", "GOOG", Side.BUY, 10.0, submitted_bar=3)
    order.status = OrderStatus.FILLED
    order.filled = 10.0
    order.avg_price = 101.25
    order.last_fill_bar = 4
    assert order_list_hash([order.to_record()]) == GOLDEN
    assert order_list_hash_of([order]) == GOLDEN


GOLDEN = "61b7d115609eccfbbd8880c86392942aeb147d0b7381e43cd09c013b53f01781"
