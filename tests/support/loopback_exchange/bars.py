"""Replayed bars for the loopback exchange: one list of OHLCV rows per market.

Bars arrive as a pandas DataFrame (Open/High/Low/Close[/Volume] columns, any case,
a DatetimeIndex or an integer index of epoch milliseconds; otherwise bars are one
minute apart from 2023-11-14), an isoloop `Bars`, or a
mapping of arrays (`open`, `high`, `low`, `close`, optional `volume` and `time` in
epoch ms). Prices become Decimals built from the float's shortest repr, so a price
the test wrote as 101.25 is 101.25 on the wire, in fills and in balances.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BarRow", "MarketSpec", "market_specs", "to_rows"]

_DEFAULT_STEP_MS = 60_000
_DEFAULT_START_MS = 1_700_000_000_000


@dataclass(frozen=True)
class BarRow:
    """One replayed bar: open time in epoch ms and OHLCV as Decimals."""

    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True)
class MarketSpec:
    """One market the exchange lists: kind is "spot" or "perp"; id is Binance's (BTCUSDT)."""

    kind: str
    id: str
    base: str
    quote: str
    rows: tuple[BarRow, ...]


def _dec(value: Any) -> Decimal:
    return Decimal(repr(float(value)))


def _column(frame: Any, name: str) -> Any:
    for col in frame.columns:
        if str(col).lower() == name:
            return frame[col].to_numpy()
    return None


def _times_from_index(index: Any, n: int) -> list[int]:
    """Epoch ms of each bar: from datetimes (naive = UTC) or integer ms; else 1-minute steps."""
    if index is not None and len(index) == n:
        values = np.asarray(index)
        if isinstance(index, pd.DatetimeIndex) or np.issubdtype(values.dtype, np.datetime64):
            stamps = pd.DatetimeIndex(index)
            stamps = stamps.tz_localize("UTC") if stamps.tz is None else stamps.tz_convert("UTC")
            return [int(ts.value // 1_000_000) for ts in stamps]
        if np.issubdtype(values.dtype, np.integer) and n and values.min() > 10**11:
            return [int(v) for v in values]  # epoch ms (a RangeIndex 0..n-1 is not)
    return [_DEFAULT_START_MS + i * _DEFAULT_STEP_MS for i in range(n)]


def to_rows(data: Any) -> tuple[BarRow, ...]:
    """Normalize any accepted bar container to rows (see the module docstring)."""
    if isinstance(data, Mapping):
        cols = {str(k).lower(): v for k, v in data.items()}
        opens, highs, lows, closes = (cols[k] for k in ("open", "high", "low", "close"))
        n = len(closes)
        volumes: Sequence[Any] = cols.get("volume", [0.0] * n)
        raw_times = cols.get("time")
        times = (
            [int(t) for t in raw_times]
            if raw_times is not None
            else [_DEFAULT_START_MS + i * _DEFAULT_STEP_MS for i in range(n)]
        )
    elif hasattr(data, "columns"):
        opens, highs, lows, closes = (_column(data, k) for k in ("open", "high", "low", "close"))
        n = len(closes)
        vol = _column(data, "volume")
        volumes = vol if vol is not None else [0.0] * n
        times = _times_from_index(data.index, n)
    else:  # an isoloop Bars: arrays as attributes, a DatetimeIndex as .index
        opens, highs, lows, closes = data.open, data.high, data.low, data.close
        n = len(closes)
        volumes = data.volume
        times = _times_from_index(data.index, n)
    return tuple(
        BarRow(
            times[i],
            _dec(opens[i]),
            _dec(highs[i]),
            _dec(lows[i]),
            _dec(closes[i]),
            _dec(volumes[i]),
        )
        for i in range(n)
    )


def _split(name: str) -> tuple[str, str]:
    for quote in ("USDT", "USDC", "BUSD", "USD"):
        if name.endswith(quote) and len(name) > len(quote):
            return name[: -len(quote)], quote
    raise ValueError(f"cannot split {name!r} into base and quote (expected e.g. BTCUSDT)")


def market_specs(bars: Mapping[str, Any]) -> dict[tuple[str, str], MarketSpec]:
    """Markets keyed by (kind, id). Keys: `BTC/USDT` spot, `BTC/USDT:USDT` perp, `BTCUSDT` both."""
    out: dict[tuple[str, str], MarketSpec] = {}
    for key, data in bars.items():
        rows = to_rows(data)
        if "/" in key:
            pair, _, settle = key.partition(":")
            base, quote = pair.split("/")
            kinds = ["perp"] if settle else ["spot"]
        else:
            base, quote = _split(key)
            kinds = ["spot", "perp"]
        for kind in kinds:
            spec = MarketSpec(kind, base + quote, base, quote, rows)
            out[(kind, spec.id)] = spec
    return out
