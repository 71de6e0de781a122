"""The exchange feed's candle rules without a network: only closed candles are
published, each once; a skipped candle is carried forward; a full buffer stops the
feed; the shared rows are read-only for everyone but the feed."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from isoloop.live.config import FeedConfig
from isoloop.live.exchange_feed import ExchangeFeed
from isoloop.live.feed import FeedBar

H = 3_600_000  # one hour in ms


class _Log:
    def __init__(self) -> None:
        self.events: list[str] = []

    def warning(self, event: str, **kw: Any) -> None:
        self.events.append(event)

    error = info = warning


class _Candles:
    """Hourly candles the test appends to; `fetch` answers like ccxt's fetch_ohlcv."""

    timeframe = "1h"

    def __init__(self, start_ms: int, closes: list[float]) -> None:
        self.rows = [[start_ms + k * H, c, c + 1, c - 1, c, 10.0] for k, c in enumerate(closes)]

    def add(self, t_ms: int, close: float) -> None:
        self.rows.append([t_ms, close, close + 1, close - 1, close, 10.0])

    def fetch(self, symbol: str, since_ms: int | None, limit: int) -> list[list[float]]:
        rows = [r for r in self.rows if since_ms is None or r[0] >= since_ms]
        return [list(r) for r in (rows[:limit] if since_ms is not None else rows[-limit:])]


def _feed(candles: _Candles, log: _Log, max_bars: int = 4) -> ExchangeFeed:
    cfg = FeedConfig.model_validate(
        {
            "mode": "exchange",
            "exchange": {"id": "binance", "symbols": {"BTCUSD": "BTC/USDT"}},
            "timeframe": "1h",
            "warmup": 3,
            "max_bars": max_bars,
        }
    )
    return ExchangeFeed(cfg, log, source=candles)  # type: ignore[arg-type]


def test_closed_candles_only_once_gaps_carried_and_a_full_buffer_stops() -> None:
    now_h = int(time.time() * 1000) // H * H  # the open time of the forming candle
    start = now_h - 10 * H
    # Four closed candles; warmup 3 reads the last three.
    candles = _Candles(start, [100.0, 101.0, 102.0, 103.0])
    log = _Log()
    feed = _feed(candles, log)
    got: list[FeedBar] = []
    feed.subscribe("c", got.append)
    bars = feed.market_data["BTCUSD"]
    assert feed.start_ms == start + H  # the first warmup candle's open time
    assert bars.close[:3].tolist() == [101.0, 102.0, 103.0] and np.isnan(bars.close[3])
    with pytest.raises(ValueError, match="read-only"):
        bars.close[3] = 1.0
    assert feed.poll() is None and got == []  # nothing new
    # Candle 4 skipped by the exchange (no trades), 5 present, and one not yet closed.
    candles.add(start + 5 * H, 106.0)
    candles.add(now_h + H, 999.0)  # closes an hour from now at the earliest: not published
    last = feed.poll()
    assert [b.bar for b in got] == [3, 4]
    assert last == got[-1] and got[-1].time_ns == (start + 5 * H) * 1_000_000
    assert bars.close[3] == 103.0 and bars.volume[3] == 0.0  # carried forward
    assert bars.close[4] == 106.0
    assert feed.poll() is None and len(got) == 2  # shown again: not published again
    # Capacity 3 + 4: two more rows fit, the third candle finds the buffer full.
    for k in (6, 7, 8):
        candles.add(start + k * H, 100.0 + k)
    feed.poll()
    assert [b.bar for b in got] == [3, 4, 5, 6]
    assert feed.done.is_set() and "feed_full" in log.events
    assert feed.step() is None
