"""Market data: sources, validation, fingerprints and read-only sharing."""

from isoloop.data.bars import OHLCV_COLUMNS, Bars, Columns, MarketData, extra_columns, freeze_array
from isoloop.data.fingerprint import fingerprint
from isoloop.data.slicing import slice_bars
from isoloop.data.sources import (
    SAMPLE_NAMES,
    SCHEMES,
    load_frame,
    load_market_data,
    sample_path,
    source_symbol,
    window,
)
from isoloop.data.synthetic import GbmSpec, gbm_frame, parse_gbm_query
from isoloop.data.validation import Origin, normalize_frame

__all__ = [
    "OHLCV_COLUMNS",
    "SAMPLE_NAMES",
    "SCHEMES",
    "Bars",
    "Columns",
    "GbmSpec",
    "MarketData",
    "Origin",
    "extra_columns",
    "fingerprint",
    "freeze_array",
    "gbm_frame",
    "load_frame",
    "load_market_data",
    "normalize_frame",
    "parse_gbm_query",
    "sample_path",
    "slice_bars",
    "source_symbol",
    "window",
]
