"""Shared services: built once per process or worker, read-only for every run.

Runs receive the shared objects themselves (wrapped in a fresh
`providers.Object` per run), never a shared provider or container: with
dependency-injector, overriding many run containers from one shared provider
keeps every run alive (see research/di-anchors.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from isoloop.data.bars import Bars, MarketData
from isoloop.errors import ScopeError

__all__ = ["SharedServices", "freeze"]


def freeze(obj: Any) -> Any:
    """Make `obj` read-only where Python lets us: arrays, frames, mappings, sequences.

    Returns the frozen object (a read-only proxy for plain dicts); objects of
    other types are returned unchanged and are the owner's responsibility.
    """
    if isinstance(obj, np.ndarray):
        obj.flags.writeable = False
        return obj
    if isinstance(obj, Bars | MarketData):
        return obj  # read-only by construction
    if isinstance(obj, pd.DataFrame | pd.Series):
        frozen = obj.copy(deep=True)
        arrays = [frozen] if isinstance(frozen, pd.Series) else [frozen[c] for c in frozen]
        for series in arrays:
            values = series.to_numpy()
            if isinstance(values, np.ndarray):
                values.flags.writeable = False
        return frozen
    if isinstance(obj, dict):
        return MappingProxyType({k: freeze(v) for k, v in obj.items()})
    if isinstance(obj, list | tuple):
        return tuple(freeze(v) for v in obj)
    return obj


class SharedServices(Mapping[str, Any]):
    """Read-only services (market data, instruments, frozen config) for every run here."""

    __slots__ = ("_services",)

    def __init__(self, **services: Any) -> None:
        self._services: Mapping[str, Any] = MappingProxyType(
            {name: freeze(value) for name, value in sorted(services.items())}
        )

    def __getitem__(self, name: str) -> Any:
        try:
            return self._services[name]
        except KeyError:
            known = ", ".join(self._services) or "none"
            raise ScopeError(f"no shared service {name!r} (available: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._services

    def __iter__(self) -> Iterator[str]:
        return iter(self._services)

    def __len__(self) -> int:
        return len(self._services)

    @property
    def market_data(self) -> MarketData:
        md = self["market_data"]
        assert isinstance(md, MarketData)
        return md
