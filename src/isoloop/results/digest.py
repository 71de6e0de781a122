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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "DIGEST_STATS_KEYS",
    "canonical",
    "canonical_json",
    "file_sha256",
    "run_digest",
    "sweep_digest",
]

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
