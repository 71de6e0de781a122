"""The loaded bars of the last sweep, kept for the next sweep over the same data.

`OptimizationExecutor` runs many sweeps on one executor; sweeps over the same
data (same sources, windows, file size and mtime) reuse the loaded, validated,
fingerprinted bars instead of reading them again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from isoloop.data import MarketData, load_market_data
from isoloop.sweep.datasets import load_datasets
from isoloop.sweep.loading import LoadedSweep

__all__ = ["DataCache", "load_sweep_data"]

Loaded = tuple[MarketData, dict[str, str]]


def _data_key(loaded: LoadedSweep) -> tuple[Any, ...]:
    """What identifies a sweep's data: each source and window, and a file's size and mtime."""
    parts: list[Any] = []
    primaries = [loaded.base.data.model_copy(update={"source": s}) for _, s in loaded.datasets]
    for dc in (*(primaries or [loaded.base.data]), *loaded.base.instruments):
        stamp: tuple[int, int] | None = None
        scheme, _, rest = dc.source.partition(":")
        if scheme in ("csv", "parquet"):
            st = Path(rest).stat()
            stamp = (st.st_size, st.st_mtime_ns)
        parts.append((dc.source, dc.symbol, str(dc.start), str(dc.end), stamp))
    return tuple(parts)


def load_sweep_data(loaded: LoadedSweep) -> Loaded:
    """The sweep's bars (every instrument; every data set of the space) and fingerprints."""
    if loaded.datasets:
        return load_datasets(loaded.datasets, loaded.base.data, loaded.base.instruments)
    return load_market_data([loaded.base.data, *loaded.base.instruments], None)


class DataCache:
    """One data set at a time: what a sweep executor serves."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._value: Loaded | None = None

    def load(self, loaded: LoadedSweep) -> Loaded:
        try:
            key = _data_key(loaded)
        except OSError:  # a missing file: let the loader report it properly
            return load_sweep_data(loaded)
        if self._value is None or key != self._key:
            self._key, self._value = None, None
            self._value = load_sweep_data(loaded)
            self._key = key
        return self._value
