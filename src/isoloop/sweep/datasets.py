"""Sweeping across data sets: `space: {data.source: [sample:GOOG, csv:eurusd.csv]}`.

The driver loads and validates every data set before any trial runs (a bad
file is one error line, not N failed trials), and shares them with the workers
as one read-only `MarketData` whose keys carry the data set's position in the
space (`"0/GOOG"`, `"1/EURUSD"`): the executors' data handles (memmap, Dask
task, Ray object) stay what they are, each worker maps every data set once,
and a trial takes the slice of its own data set, under its real symbols.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from isoloop.config import DataConfig
from isoloop.data import MarketData, load_market_data

__all__ = ["dataset_index", "dataset_key", "dataset_prints", "dataset_slice", "load_datasets"]

_SEP = "/"


def dataset_key(index: int, symbol: str) -> str:
    """The shared key of `symbol` of the `index`-th data set of the space."""
    return f"{index}{_SEP}{symbol}"


def dataset_index(datasets: Sequence[tuple[str, str]], value: object) -> int:
    """The position of a trial's `data.source` value among the space's data sets."""
    for i, (written, _) in enumerate(datasets):
        if written == value:
            return i
    raise ValueError(f"data.source {value!r} is not one of the sweep's data sets")


def load_datasets(
    datasets: Sequence[tuple[str, str]],
    data: DataConfig,
    instruments: Sequence[DataConfig],
) -> tuple[MarketData, dict[str, str]]:
    """Every data set (its primary source with the base's instruments), keyed apart."""
    bars = {}
    prints: dict[str, str] = {}
    for i, (_, resolved) in enumerate(datasets):
        primary = data.model_copy(update={"source": resolved})
        market, fps = load_market_data([primary, *instruments], None)
        for symbol, one in market.items():
            key = dataset_key(i, symbol)
            bars[key] = dataclasses.replace(one, symbol=key)
            prints[key] = fps[symbol]
    return MarketData(bars), {k: prints[k] for k in sorted(prints)}


def dataset_slice(data: MarketData, index: int) -> MarketData:
    """The `index`-th data set's bars under their own symbols (the arrays are shared)."""
    prefix = dataset_key(index, "")
    return MarketData(
        {
            key.removeprefix(prefix): dataclasses.replace(bars, symbol=key.removeprefix(prefix))
            for key, bars in data.items()
            if key.startswith(prefix)
        }
    )


def dataset_prints(prints: Mapping[str, str], index: int) -> dict[str, str]:
    """The `index`-th data set's fingerprints by symbol."""
    prefix = dataset_key(index, "")
    return {k.removeprefix(prefix): v for k, v in prints.items() if k.startswith(prefix)}
