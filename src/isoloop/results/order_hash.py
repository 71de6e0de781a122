"""The order list hash: every order of a run, in submission order, as one SHA-256.

Version 2 (`DIGEST_VERSION`, what run folders record as `digest_version`) hashes
each order as a fixed binary layout read straight off the run's `Order` objects, or
off their records (`Order.to_record`: what `orders.jsonl` keeps) — the same bytes
either way. Version 1, which run folders written before `digest_version` hold,
hashed each record's canonical JSON; `isoloop verify` still computes it for them.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Mapping, Sequence
from itertools import combinations
from json.encoder import encode_basestring_ascii
from types import MappingProxyType
from typing import TYPE_CHECKING

from isoloop.results.digest import _float, canonical_json

if TYPE_CHECKING:
    from isoloop.model.orders import Order

__all__ = [
    "DIGEST_VERSION",
    "order_list_hash",
    "order_list_hash_of",
    "order_list_hash_v1",
    "order_record_json",
]

#: What `order_list_hash` hashes; run folders record it (`digest_version`). Version 1
#: hashed each order's canonical JSON record (folders written before it was recorded).
DIGEST_VERSION = 2
_ORDERS_V1 = b"isoloop-orders-v1\n"
_ORDERS = b"isoloop-orders-v2\n"


# -- order records -------------------------------------------------------------------
# An order-heavy run hashes tens of thousands of records, and json.dumps(sort_keys=True)
# of each one cost about as much as running the order through the tight loop. The
# records of `Order.to_record` have one of a few known key sets, so their canonical
# JSON is written here directly, field by field in sorted key order, with the very
# encoders json uses (float/int repr, the C string escaper): the same bytes, so no
# digest changes. Any other record, or a value of any other type, takes `canonical_json`.
_ORDER_KEYS = (
    "id",
    "symbol",
    "venue",
    "side",
    "type",
    "tif",
    "size",
    "equity_fraction",
    "reduce_only",
    "limit",
    "stop",
    "status",
    "filled",
    "avg_price",
    "submitted_bar",
    "last_fill_bar",
)
# Appended by `to_record` when set, in this order.
_ORDER_OPTIONAL = (("sl",), ("tp",), ("parent_trade", "contingent"))


def _layouts() -> Mapping[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Each key tuple `to_record` can produce → (JSON prefix, key) in sorted key order."""
    out: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
    for n in range(len(_ORDER_OPTIONAL) + 1):
        for extra in combinations(_ORDER_OPTIONAL, n):
            keys = _ORDER_KEYS + tuple(k for group in extra for k in group)
            ordered = sorted(keys)
            out[keys] = tuple(
                (("{" if j == 0 else ",") + f'"{k}":', k) for j, k in enumerate(ordered)
            )
    return MappingProxyType(out)


_ORDER_LAYOUTS = _layouts()


def _float_json(value: float) -> str:
    # x - x is 0.0 only for finite x; NaN/±inf are spelled as canonical() spells them.
    if value - value == 0.0:
        return float.__repr__(value)
    return json.dumps(_float(value))


def _scalar_json(value: object) -> str:
    """The canonical JSON of a builtin scalar, or "" for any other type."""
    # Inline type tests, not a table of encoders: compiled (tools/compile.py) each
    # branch is a pointer compare and a direct call.
    kind = type(value)
    if kind is float:
        return _float_json(value)  # type: ignore[arg-type]
    if kind is str:
        return encode_basestring_ascii(value)  # type: ignore[arg-type]
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    return ""


def order_record_json(record: Mapping[str, object]) -> str:
    """`canonical_json(record)`, written directly for the records of `Order.to_record`."""
    if type(record) is dict:
        layout = _ORDER_LAYOUTS.get(tuple(record))
        if layout is not None:
            parts: list[str] = []
            for prefix, key in layout:
                encoded = _scalar_json(record[key])
                if not encoded:
                    return canonical_json(record)  # a type without a direct encoder
                parts.append(prefix)
                parts.append(encoded)
            parts.append("}")
            return "".join(parts)
    return canonical_json(record)


def order_list_hash_v1(orders: Sequence[Mapping[str, object]]) -> str:
    """The version-1 order list hash (SHA-256 over each record's canonical JSON), which
    run folders written before `digest_version` was recorded hold; `verify` uses it."""
    digest = hashlib.sha256(_ORDERS_V1)
    digest.update(len(orders).to_bytes(8, "little"))
    update = digest.update
    for order in orders:
        payload = order_record_json(order).encode("ascii")
        # Length-prefixed as `_record` does, in one update.
        update(len(payload).to_bytes(8, "little") + payload)
    return digest.hexdigest()


# -- the order list hash, version 2 ----------------------------------------------------
# Each order as a fixed binary layout: its eight prices and sizes as little-endian
# float64 (absent: 0.0 and a clear presence bit; NaN as the one canonical NaN), a
# uint16 of flags and the lengths (uint32, in characters) of its ten text fields, then
# those fields as one UTF-8 string (the two bar numbers as decimal text, so any int
# fits). Writing the shortest repr of every float for the JSON record was most of the
# version-1 hash's cost.
_HEAD = struct.Struct("<8dH10I")
# A record that is not an order's: flags' bit 15 (never set by an order) marks it.
_FOREIGN = _HEAD.pack(*([0.0] * 8), 1 << 15, *([0] * 10))
_EF, _LIMIT, _STOP, _AVG, _SL, _TP, _PARENT, _REDUCE, _CONTINGENT = (1 << k for k in range(9))
_NAN = float("nan")


def _num(x: float) -> float:
    return _NAN if x != x else x  # noqa: PLR0124 (NaN: one bit pattern for all of them)


def _opt(x: float | None) -> float:
    return 0.0 if x is None else _num(x)


def _order_payload(
    id: str,
    symbol: str,
    venue: str,
    side: str,
    type: str,
    tif: str,
    status: str,
    size: float,
    equity_fraction: float | None,
    limit: float | None,
    stop: float | None,
    filled: float,
    avg_price: float | None,
    sl: float | None,
    tp: float | None,
    submitted_bar: int,
    last_fill_bar: int,
    reduce_only: bool,
    parent_trade: str | None,
    contingent: bool,
) -> bytes:
    flags = _REDUCE if reduce_only else 0
    if equity_fraction is not None:
        flags |= _EF
    if limit is not None:
        flags |= _LIMIT
    if stop is not None:
        flags |= _STOP
    if avg_price is not None:
        flags |= _AVG
    if sl is not None:
        flags |= _SL
    if tp is not None:
        flags |= _TP
    parent = ""
    if parent_trade is not None:
        parent = parent_trade
        flags |= _PARENT | (_CONTINGENT if contingent else 0)
    first = str(submitted_bar)
    last = str(last_fill_bar)
    head = _HEAD.pack(
        _num(size),
        _opt(equity_fraction),
        _opt(limit),
        _opt(stop),
        _num(filled),
        _opt(avg_price),
        _opt(sl),
        _opt(tp),
        flags,
        len(id),
        len(symbol),
        len(venue),
        len(side),
        len(type),
        len(tif),
        len(status),
        len(parent),
        len(first),
        len(last),
    )
    text = "".join((id, symbol, venue, side, type, tif, status, parent, first, last))
    return head + text.encode("utf-8", "surrogatepass")


def _maybe(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _record_payload(record: Mapping[str, object]) -> bytes:
    if type(record) is not dict or tuple(record) not in _ORDER_LAYOUTS:
        return _foreign_payload(record)
    try:
        return _order_record_payload(record)
    except (TypeError, ValueError):  # an order's keys, a value of another kind
        return _foreign_payload(record)


def _foreign_payload(record: Mapping[str, object]) -> bytes:
    """Not an `Order.to_record` record (another engine's, a hand-made one): its canonical
    JSON, marked so it can never read as an order's binary layout."""
    text = canonical_json(record).encode("ascii")
    return _FOREIGN + len(text).to_bytes(8, "little") + text


def _order_record_payload(record: Mapping[str, object]) -> bytes:
    avg = _maybe(record["avg_price"])
    parent = record.get("parent_trade")
    return _order_payload(
        str(record["id"]),
        str(record["symbol"]),
        str(record["venue"]),
        str(record["side"]),
        str(record["type"]),
        str(record["tif"]),
        str(record["status"]),
        float(record["size"]),  # type: ignore[arg-type]
        _maybe(record["equity_fraction"]),
        _maybe(record["limit"]),
        _maybe(record["stop"]),
        float(record["filled"]),  # type: ignore[arg-type]
        None if avg is None or math.isnan(avg) else avg,
        _maybe(record.get("sl")),
        _maybe(record.get("tp")),
        int(record["submitted_bar"]),  # type: ignore[call-overload]
        int(record["last_fill_bar"]),  # type: ignore[call-overload]
        bool(record["reduce_only"]),
        None if parent is None else str(parent),
        bool(record.get("contingent")),
    )


def _object_payload(order: Order) -> bytes:
    avg = order.avg_price
    # The four enums are StrEnums: each member is a str holding its value's characters,
    # so it goes in as is (the same lengths and text as `_value_`, without reading it).
    return _order_payload(
        order.id,
        order.symbol,
        order.venue,
        order.side,
        order.type,
        order.tif,
        order.status,
        order.size,
        order.equity_fraction,
        order.limit,
        order.stop,
        order.filled,
        None if math.isnan(avg) else avg,
        order.sl,
        order.tp,
        order.submitted_bar,
        order.last_fill_bar,
        order.reduce_only,
        order.parent_trade,
        order.contingent,
    )


def _hash_payloads(payloads: list[bytes]) -> str:
    digest = hashlib.sha256(_ORDERS)
    digest.update(len(payloads).to_bytes(8, "little"))
    digest.update(b"".join(payloads))  # each payload is self-delimiting
    return digest.hexdigest()


def order_list_hash(orders: Sequence[Mapping[str, object]]) -> str:
    """SHA-256 over every order's record (`Order.to_record`), in order (version 2)."""
    return _hash_payloads([_record_payload(o) for o in orders])


def order_list_hash_of(orders: Sequence[Order]) -> str:
    """`order_list_hash` of the orders' records, read straight off the orders."""
    return _hash_payloads([_object_payload(o) for o in orders])
