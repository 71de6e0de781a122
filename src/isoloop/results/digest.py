"""Digests that prove two runs are the same run.

Everything hashed goes through one canonical JSON encoding (sorted keys, no
whitespace, floats by `repr` so they round-trip exactly, NaN/±inf as strings),
so a digest depends only on values — never on dict insertion order, the process,
`PYTHONHASHSEED` or the worker that produced it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations
from json.encoder import encode_basestring_ascii
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from isoloop.model.orders import Order

__all__ = [
    "DIGEST_STATS_KEYS",
    "DIGEST_VERSION",
    "canonical",
    "canonical_json",
    "file_sha256",
    "order_list_hash",
    "order_list_hash_of",
    "order_list_hash_v1",
    "order_record_json",
    "run_digest",
    "sweep_digest",
]

#: What `order_list_hash` hashes; run folders record it (`digest_version`). Version 1
#: hashed each order's canonical JSON record (folders written before it was recorded).
DIGEST_VERSION = 2
_ORDERS_V1 = b"isoloop-orders-v1\n"
_ORDERS = b"isoloop-orders-v2\n"
_RUN = b"isoloop-run-v1\n"
_SWEEP = b"isoloop-sweep-v1\n"
_TRIAL_KEYS = ("id", "params", "status", "digest")

#: The stats a run digest covers: the stats contract as it was when run digests were
#: first published. Stats added to the contract later (duration, CAGR, alpha, beta,
#: drawdown and trade durations, Kelly) are derived from the same equity curve and
#: trades, so they add no evidence about the run, and hashing them would change
#: every digest ever published: `isoloop verify` of a run folder written by an
#: earlier release, and the golden digests in the docs, must keep matching. Never
#: add keys here; a new stat is reported, not hashed.
DIGEST_STATS_KEYS: tuple[str, ...] = (
    "equity_final",
    "equity_peak",
    "return_pct",
    "buy_hold_return_pct",
    "return_ann_pct",
    "volatility_ann_pct",
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "max_drawdown_pct",
    "avg_drawdown_pct",
    "trades",
    "win_rate_pct",
    "best_trade_pct",
    "worst_trade_pct",
    "avg_trade_pct",
    "profit_factor",
    "expectancy_pct",
    "sqn",
    "exposure_pct",
    "commissions",
)
_DIGESTED = frozenset(DIGEST_STATS_KEYS)


def _float(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


_EXACT_PLAIN = frozenset({str, int, bool, type(None)})


def _key(key: object) -> str:
    if not isinstance(key, str | int) or isinstance(key, bool):
        raise TypeError(f"canonical JSON needs str or int keys, got {key!r}")
    return str(key)


def canonical(value: object) -> object:
    """`value` as plain JSON types (dict/list/str/int/float/bool/None).

    Sets are rejected because their iteration order is not part of their value.
    """
    # Fast path for exact builtin types (every order record and stats mapping): the
    # isinstance checks against ABCs below cost more than the encoding itself.
    kind = type(value)
    if kind in _EXACT_PLAIN:
        return value
    if kind is float:
        return _float(value)  # type: ignore[arg-type]
    if kind is dict:
        return {_key(k): canonical(v) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind is list or kind is tuple:
        return [canonical(v) for v in value]  # type: ignore[attr-defined]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _float(float(value))
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return str(value.astype("datetime64[ns]"))
    if isinstance(value, Mapping):
        return {_key(key): canonical(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return [canonical(v) for v in value.tolist()]
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [canonical(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return canonical({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return canonical(dump(mode="json"))
    raise TypeError(
        f"cannot encode {type(value).__name__} canonically; convert it to plain "
        "JSON types (sets have no canonical order: sort them into a list)"
    )


_FLAT_VALUES = frozenset({str, int, float, bool, type(None)})


def canonical_json(value: object) -> str:
    """Sorted-key, whitespace-free JSON with exact floats and string NaN/±inf."""
    if type(value) is dict and all(
        type(k) is str and type(v) in _FLAT_VALUES for k, v in value.items()
    ):
        # A flat record of builtin scalars (every order): json's own encoding is the
        # canonical one (floats by repr), unless a float is NaN/±inf, which json refuses
        # with allow_nan=False and the general path spells as strings.
        try:
            return json.dumps(
                value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
            )
        except ValueError:
            pass
    return json.dumps(
        canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def _record(digest: hashlib._Hash, payload: bytes) -> None:
    # Length-prefix each record so concatenations cannot collide.
    digest.update(len(payload).to_bytes(8, "little"))
    digest.update(payload)


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
    if type(record) is dict and tuple(record) in _ORDER_LAYOUTS:
        try:
            return _order_record_payload(record)
        except (TypeError, ValueError):
            pass  # a value of another kind: hashed as JSON below
    # Not an `Order.to_record` record (another engine's, a hand-made one): its canonical
    # JSON, marked so it can never read as an order's binary layout.
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
    return _order_payload(
        order.id,
        order.symbol,
        order.venue,
        order.side._value_,
        order.type._value_,
        order.tif._value_,
        order.status._value_,
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


def run_digest(order_list_hash: str, equity: np.ndarray, stats: Mapping[str, object]) -> str:
    """SHA-256 over the order list hash, the equity curve (little-endian float64) and the stats.

    Only the stats named in `DIGEST_STATS_KEYS` are hashed; any other key is ignored.
    """
    digest = hashlib.sha256(_RUN)
    _record(digest, order_list_hash.encode("ascii"))
    curve = np.ascontiguousarray(np.asarray(equity, dtype="float64").ravel(), dtype="<f8")
    _record(digest, curve.tobytes())
    hashed = {key: value for key, value in stats.items() if key in _DIGESTED}
    _record(digest, canonical_json(hashed).encode("ascii"))
    return digest.hexdigest()


def sweep_digest(trials: Iterable[Mapping[str, object]]) -> str:
    """SHA-256 over each trial's (id, params, status, digest), sorted by trial id."""
    records: list[tuple[object, str]] = []
    for trial in trials:
        missing = [k for k in _TRIAL_KEYS if k not in trial]
        if missing:
            raise ValueError(f"trial record {dict(trial)!r} lacks {', '.join(missing)}")
        records.append((trial["id"], canonical_json({k: trial[k] for k in _TRIAL_KEYS})))
    ids = [trial_id for trial_id, _ in records]
    if len(set(map(repr, ids))) != len(ids):
        raise ValueError("trial ids must be unique in a sweep digest")
    records.sort(key=lambda item: item[0])  # type: ignore[arg-type,return-value]
    digest = hashlib.sha256(_SWEEP)
    digest.update(len(records).to_bytes(8, "little"))
    for _, payload in records:
        _record(digest, payload.encode("ascii"))
    return digest.hexdigest()


def file_sha256(path: Path, *, chunk: int = 1 << 20) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of a file's contents, read in chunks.

    Used for the `files` table of a run's manifest, which `verify` checks to catch
    an edited or deleted artifact; it is not part of any run digest.
    """
    digest = hashlib.sha256()
    size = 0
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
