"""How orders are hashed: the binary layout of version 2, and version 1's JSON records.

A run hashes its orders straight off the `Order` objects (`order_list_hash_of`);
`verify` and anyone holding only the records hash the records (`order_list_hash`):
both must give the same hash. Version 1 (run folders written before
`digest_version`) encoded each record's canonical JSON directly, without json.dumps:
any byte of difference would break the verification of those folders.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from isoloop.model.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from isoloop.results.digest import canonical_json
from isoloop.results.order_hash import (
    order_list_hash,
    order_list_hash_of,
    order_list_hash_v1,
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
def test_orders_hash_as_their_records_do(batch: list[Order]) -> None:
    """What a run hashes (the orders themselves) is what verify hashes (their records)."""
    records = [o.to_record() for o in batch]
    assert order_list_hash_of(batch) == order_list_hash(records)
    # Through JSON and back (a record as orders.jsonl keeps it): the same hash.
    assert order_list_hash(json.loads(json.dumps(records))) == order_list_hash(records)


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


def _known_order() -> Order:
    order = Order("O0000001", "GOOG", Side.BUY, 10.0, submitted_bar=3)
    order.status = OrderStatus.FILLED
    order.filled = 10.0
    order.avg_price = 101.25
    order.last_fill_bar = 4
    return order


def test_the_version_1_hash_of_a_known_order_is_unchanged() -> None:
    # Golden: the hash of this one-order list as published before the direct encoder.
    assert order_list_hash_v1([_known_order().to_record()]) == GOLDEN


def test_the_version_2_hash_is_the_documented_binary_layout() -> None:
    """Written here from the layout's description in digest.py, not by its code."""
    head = struct.pack(
        "<8dH10I",
        10.0,  # size
        1.0 - 2**-52,  # equity_fraction: 0.0 would mean absent; see the flag
        0.0,  # limit (absent)
        0.0,  # stop (absent)
        10.0,  # filled
        101.25,  # avg_price
        0.0,  # sl (absent)
        0.0,  # tp (absent)
        0b1000 | 0b1,  # flags: avg_price and equity_fraction present
        *(len(t) for t in ("O0000001", "GOOG", "sim", "BUY", "MARKET", "GTC", "FILLED", "")),
        1,  # "3"
        1,  # "4"
    )
    body = b"O0000001GOOGsimBUYMARKETGTCFILLED34"
    expected = hashlib.sha256(b"isoloop-orders-v2\n" + (1).to_bytes(8, "little") + head + body)
    order = _known_order()
    order.equity_fraction = 1.0 - 2**-52
    assert order_list_hash_of([order]) == expected.hexdigest()
    assert order_list_hash([order.to_record()]) == expected.hexdigest()


def test_a_record_that_is_not_an_orders_is_hashed_as_its_json() -> None:
    foreign = [{"id": "o-1", "side": "buy", "qty": 1, "price": 100.0}]
    assert order_list_hash(foreign) == order_list_hash(json.loads(json.dumps(foreign)))
    assert order_list_hash(foreign) != order_list_hash([{**foreign[0], "qty": 2}])
    # Right keys, a value of another kind: no error, and not the order's hash.
    record = _known_order().to_record()
    assert order_list_hash([record | {"size": "ten"}]) != order_list_hash([record])


GOLDEN = "61b7d115609eccfbbd8880c86392942aeb147d0b7381e43cd09c013b53f01781"
