"""The in-process market-data cache: a repeat load reuses the bars, a changed file does not."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backtesting.test import GOOG

from isoloop.config.models import DataConfig
from isoloop.data import load_market_data
from isoloop.data.cache import MarketDataCache
from isoloop.errors import DataError


def _write(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index_label="Date")
    return path


def _config(path: Path) -> list[DataConfig]:
    return [DataConfig(source=f"csv:{path}", symbol="GOOG")]


def test_same_unchanged_file_is_loaded_once_and_shared_read_only(tmp_path: Path) -> None:
    path = _write(tmp_path / "goog.csv", GOOG.iloc[:300])
    cache = MarketDataCache()
    first, prints = cache.load(_config(path), None)
    again, prints_again = cache.load(_config(path), None)
    assert again is first and (cache.hits, cache.misses) == (1, 1)
    assert prints_again == prints == load_market_data(_config(path), None)[1]
    # Shared between runs, so nobody may write to it.
    with pytest.raises(ValueError, match="read-only"):
        again["GOOG"].close[0] = 0.0


def test_same_size_rewrite_with_the_old_mtime_misses(tmp_path: Path) -> None:
    path = _write(tmp_path / "goog.csv", GOOG.iloc[:300])
    cache = MarketDataCache()
    before, _ = cache.load(_config(path), None)
    stat = path.stat()
    text = path.read_text()
    # Swap two digits of one close: same size, then put the old timestamps back.
    row = text.splitlines()[5]
    changed = row[:-1] + ("1" if row[-1] != "1" else "2")
    path.write_text(text.replace(row, changed, 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    after, _ = cache.load(_config(path), None)
    assert after is not before and cache.misses == 2
    fresh, _ = load_market_data(_config(path), None)
    np.testing.assert_array_equal(after["GOOG"].volume, fresh["GOOG"].volume)
    assert not np.array_equal(after["GOOG"].volume, before["GOOG"].volume)


def test_appended_rows_and_a_new_mtime_miss(tmp_path: Path) -> None:
    path = _write(tmp_path / "goog.csv", GOOG.iloc[:300])
    cache = MarketDataCache()
    short, _ = cache.load(_config(path), None)
    _write(path, GOOG.iloc[:310])
    longer, _ = cache.load(_config(path), None)
    assert (len(short["GOOG"]), len(longer["GOOG"])) == (300, 310)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, same bytes
    touched, _ = cache.load(_config(path), None)
    assert touched is not longer and cache.misses == 3


def test_window_and_symbol_are_part_of_the_key(tmp_path: Path) -> None:
    path = _write(tmp_path / "goog.csv", GOOG.iloc[:300])
    cache = MarketDataCache()
    whole, _ = cache.load(_config(path), None)
    cut, _ = cache.load([DataConfig(source=f"csv:{path}", symbol="GOOG", end="2005-01-01")], None)
    other, _ = cache.load([DataConfig(source=f"csv:{path}", symbol="ALPHA")], None)
    assert len(cut["GOOG"]) < len(whole["GOOG"])
    assert list(other) == ["ALPHA"] and cache.misses == 3


def test_least_recently_used_is_dropped_beyond_the_bound() -> None:
    cache = MarketDataCache(max_entries=2)
    configs = [[DataConfig(source=f"synthetic:gbm?bars=50&seed={s}")] for s in (1, 2, 3)]
    a, _ = cache.load(configs[0], None)
    cache.load(configs[1], None)
    assert cache.load(configs[0], None)[0] is a  # a is now the most recently used
    cache.load(configs[2], None)  # drops seed 2, keeps a
    assert len(cache) == 2
    assert cache.load(configs[0], None)[0] is a
    cache.load(configs[1], None)
    assert cache.misses == 4  # seeds 1, 2, 3, and 2 again


def test_a_cached_load_warns_like_a_fresh_one(tmp_path: Path) -> None:
    frame = GOOG.iloc[:50].copy()
    frame["Note"] = "text"
    path = _write(tmp_path / "noted.csv", frame)
    cache = MarketDataCache()
    for _ in range(2):
        with pytest.warns(UserWarning, match="Note"):
            cache.load(_config(path), None)
    assert cache.hits == 1


def test_a_missing_file_gets_the_loaders_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        MarketDataCache().load(_config(tmp_path / "absent.csv"), None)
