"""Deterministic synthetic OHLCV bars (geometric Brownian motion) for tests and benchmarks.

The same query always gives the same bars: the generator is seeded from
`numpy.random.SeedSequence(seed)`, never from global state.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

import numpy as np
import pandas as pd

from isoloop.config.limits import check_limit, shorten
from isoloop.errors import DataError

__all__ = ["GbmSpec", "gbm_frame", "parse_gbm_query"]

_KEYS = ("bars", "seed", "start", "freq", "s0", "drift", "vol")
_DEFAULT_START = "2020-01-01"
_DEFAULT_FREQ = "1min"
_DEFAULT_S0 = 100.0
_DEFAULT_DRIFT = 0.0
_DEFAULT_VOL = 0.01


@dataclass(frozen=True, slots=True)
class GbmSpec:
    """Parameters of a GBM path; `drift` and `vol` are per bar (log-return units)."""

    bars: int
    seed: int
    start: str = _DEFAULT_START
    freq: str = _DEFAULT_FREQ
    s0: float = _DEFAULT_S0
    drift: float = _DEFAULT_DRIFT
    vol: float = _DEFAULT_VOL


def _fail(source: str, message: str) -> DataError:
    return DataError(
        f"{shorten(source)}: {message}; expected synthetic:gbm?bars=N&seed=S with optional "
        f"{', '.join(_KEYS[2:])}"
    )


def parse_gbm_query(source: str, spec: str) -> GbmSpec:
    """Parse the part after `synthetic:` (e.g. `gbm?bars=1000&seed=7`)."""
    kind, _, query = spec.partition("?")
    if kind != "gbm":
        raise _fail(source, f"unknown synthetic generator {kind!r} (known: gbm)")
    try:
        pairs = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise _fail(source, f"malformed query {query!r}") from None
    unknown = sorted(set(pairs) - set(_KEYS))
    if unknown:
        raise _fail(source, f"unknown key(s) {', '.join(unknown)}")
    repeated = sorted(k for k, v in pairs.items() if len(v) > 1)
    if repeated:
        raise _fail(source, f"key(s) given twice: {', '.join(repeated)}")
    values = {k: v[0] for k, v in pairs.items()}
    for required in ("bars", "seed"):
        if required not in values:
            raise _fail(source, f"missing {required}")

    def as_int(key: str, minimum: int) -> int:
        text = values[key].strip()
        check_limit("int_digits", len(text), f"{shorten(source)}: {key}")
        try:
            number = int(text)
        except ValueError:
            raise _fail(source, f"{key}={shorten(repr(values[key]))} is not an integer") from None
        if number < minimum:
            raise _fail(source, f"{key}={number} must be >= {minimum}")
        return number

    def as_float(key: str, default: float, *, positive: bool = False) -> float:
        if key not in values:
            return default
        try:
            number = float(values[key])
        except ValueError:
            raise _fail(source, f"{key}={values[key]!r} is not a number") from None
        if not np.isfinite(number) or (positive and number <= 0) or (number < 0 and key == "vol"):
            raise _fail(source, f"{key}={values[key]!r} is out of range")
        return number

    gbm = GbmSpec(
        bars=as_int("bars", 1),
        seed=as_int("seed", 0),
        start=values.get("start", _DEFAULT_START),
        freq=values.get("freq", _DEFAULT_FREQ),
        s0=as_float("s0", _DEFAULT_S0, positive=True),
        drift=as_float("drift", _DEFAULT_DRIFT),
        vol=as_float("vol", _DEFAULT_VOL),
    )
    check_limit("bars", gbm.bars, shorten(source))
    try:
        offset = pd.tseries.frequencies.to_offset(gbm.freq)
        (pd.Timestamp(gbm.start).as_unit("ns") + offset * (gbm.bars - 1)).as_unit("ns")
    except (ValueError, TypeError, OverflowError):
        raise _fail(
            source,
            f"bad start {shorten(repr(gbm.start))} or freq {shorten(repr(gbm.freq))}, or the "
            "last bar would fall after the year 2262",
        ) from None
    return gbm


def gbm_frame(spec: GbmSpec) -> pd.DataFrame:
    """OHLCV bars whose closes follow GBM; highs/lows always bracket open and close."""
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed))
    n = spec.bars
    shocks = rng.standard_normal(n)
    log_ret = (spec.drift - 0.5 * spec.vol**2) + spec.vol * shocks
    close = spec.s0 * np.exp(np.cumsum(log_ret))
    open_ = np.empty(n)
    open_[0] = spec.s0
    open_[1:] = close[:-1]
    wick = np.abs(rng.standard_normal((2, n))) * (0.5 * spec.vol)
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    volume = np.floor(rng.lognormal(mean=8.0, sigma=1.0, size=n))
    index = pd.date_range(pd.Timestamp(spec.start), periods=n, freq=spec.freq)
    return pd.DataFrame(
        {"Open": open_, "High": high, "Low": low, "Close": close, "Volume": volume},
        index=pd.DatetimeIndex(index).as_unit("ns"),
    )
