"""Bars from the exchange (`feed.mode: exchange`): closed candles read through ccxt's
public, unified `fetch_ohlcv`, published to the containers like replayed bars.

At start the feed reads the last `warmup` closed candles of each symbol into
preallocated rows (capacity `warmup + max_bars`, on the timeframe's grid), then
polls every `poll_interval` seconds. Each new closed candle is written into its row
BEFORE its `FeedBar` is published, so a container never sees an index whose row is
still empty. The feed is the only writer: containers get read-only views of the same
buffers, and the `ExchangeFeedEngine` slot copies a row into its container's per-bar
lists (and re-runs the strategy's `init()`) before the bar is processed.

A candle counts as closed once its open time plus the timeframe is not in the future
(the machine's clock; keep it synced). A candle the exchange shows again is not
published again; the containers' `BarGate` still drops duplicate, out-of-order and
stale bars. No credentials are used; ccxt is imported only when a feed is built.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np

from isoloop.config.models import ExchangeConfig
from isoloop.data.bars import Bars, MarketData
from isoloop.errors import ConfigError
from isoloop.live.config import FeedConfig
from isoloop.live.feed import FeedBar, ReplayFeed

__all__ = ["DEFAULT_MAX_BARS", "CandleBuffer", "CandleSource", "ExchangeFeed", "timeframe_ms"]

#: Rows after the warmup when `feed.max_bars` is unset (a week of 1m candles).
DEFAULT_MAX_BARS = 10_080

_UNIT_MS = MappingProxyType({"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000})


def timeframe_ms(timeframe: str) -> int:
    """`15m` -> 900000 (the config pattern guarantees digits then one of m h d w)."""
    return int(timeframe[:-1]) * _UNIT_MS[timeframe[-1]]


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False


class CandleSource:
    """One exchange's public candles: `fetch_ohlcv` with retries and backoff on network
    faults (ccxt's `NetworkError`: timeouts, refused connections, 5xx, rate limits)."""

    def __init__(
        self,
        settings: ExchangeConfig,
        timeframe: str,
        *,
        retries: int,
        max_backoff: float,
        log: Any,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        try:
            import ccxt  # type: ignore[import-untyped]  # lazily: `import isoloop` stays light
        except ImportError:
            raise ConfigError(
                "feed.mode: exchange needs ccxt, which is not installed; "
                "install the extra: pip install 'isoloop[exchanges]'"
            ) from None
        self._ccxt = ccxt
        self.settings = settings
        self.timeframe = timeframe
        self.retries = retries
        self.max_backoff = max_backoff
        self._log = log
        # `wait(seconds)` returns True when the feed is stopping (a backoff ends early).
        self._wait = wait or _sleep
        perp = settings.market == "perp"
        options: dict[str, Any] = {"defaultType": "swap" if perp else "spot"}
        if settings.id == "binance":
            # Only the market type the feed reads, and no (private) currency listing.
            options["fetchMarkets"] = {"types": ["linear" if perp else "spot"]}
            options["fetchCurrencies"] = False
        ex = getattr(ccxt, settings.id)(
            {
                "enableRateLimit": settings.rate_limit,
                "timeout": settings.timeout_ms,
                "options": options,
            }
        )
        if settings.sandbox:
            ex.set_sandbox_mode(True)
        if settings.urls:
            api = ex.urls.get("api")
            ex.urls["api"] = {**api, **settings.urls} if isinstance(api, dict) else settings.urls
        self._ex = ex
        self.requests = 0
        self.failures = 0

    def fetch(self, symbol: str, since_ms: int | None, limit: int) -> list[list[float]]:
        """Candles `[open_ms, o, h, l, c, v]` (oldest first); network faults are retried
        `retries` times (0.5 s doubling, at most `max_backoff`), then raised."""
        attempt = 0
        while True:
            self.requests += 1
            try:
                rows = self._ex.fetch_ohlcv(symbol, self.timeframe, since_ms, limit)
                return [list(r) for r in rows]
            except self._ccxt.NetworkError as exc:
                self.failures += 1
                if attempt >= self.retries:
                    raise
                delay = min(0.5 * 2**attempt, self.max_backoff)
                self._log.warning(
                    "feed_request_retry",
                    symbol=symbol,
                    attempt=attempt + 1,
                    delay=delay,
                    error=f"{type(exc).__name__}: {str(exc)[:200]}",
                )
                attempt += 1
                if self._wait(delay):
                    raise


class CandleBuffer:
    """One symbol's preallocated OHLCV rows on the timeframe's grid (NaN until written).

    `bars` holds read-only views of the rows: containers read them, only the feed
    writes (`write`), always a row before the bar that announces it is published."""

    def __init__(self, symbol: str, index: np.ndarray) -> None:
        self._rows = np.full((5, len(index)), np.nan)
        views = []
        for k in range(5):
            view = self._rows[k].view()
            view.flags.writeable = False
            views.append(view)
        o, h, lo, c, v = views
        self.bars = Bars(symbol, index, o, h, lo, c, v)

    def write(self, row: int, ohlcv: list[float]) -> None:
        self._rows[:, row] = ohlcv

    def close(self, row: int) -> float:
        return float(self._rows[3, row])


class ExchangeFeed(ReplayFeed):
    """The shared feed of `mode: exchange`: same subscribers, history and `FeedBar`s as
    the replay feed; bars are rows of `market_data`, the first `warmup` never published."""

    def __init__(self, config: FeedConfig, log: Any, source: CandleSource | None = None) -> None:
        settings = config.exchange
        if settings is None:  # the config's validator already refuses this
            raise ConfigError("feed.exchange is required with feed.mode: exchange")
        names = dict(settings.symbols) or ({config.symbol: config.symbol} if config.symbol else {})
        if not names:
            raise ConfigError(
                "feed.exchange.symbols: name at least one symbol for feed.mode: exchange "
                "(e.g. {BTCUSD: BTC/USDT})"
            )
        primary = config.symbol or sorted(names)[0]
        if primary not in names:
            names[primary] = primary
        self._log = log
        self._stopping = threading.Event()
        self.source = source or CandleSource(
            settings,
            config.timeframe,
            retries=config.retries,
            max_backoff=config.poll_interval,
            log=log,
            wait=self._stopping.wait,
        )
        self.poll_interval = config.poll_interval
        self.step_ms = timeframe_ms(config.timeframe)
        self.warmup = config.warmup
        self.primary = primary
        self._symbols = names  # isoloop symbol -> ccxt symbol
        self._poll_lock = threading.Lock()
        history = self._read_warmup(settings.id)
        self.start_ms = int(history[0][0])
        self.capacity = self.warmup + (config.max_bars or DEFAULT_MAX_BARS)
        grid_ms = self.start_ms + self.step_ms * np.arange(self.capacity, dtype=np.int64)
        index = (grid_ms * 1_000_000).astype("datetime64[ns]")
        index.flags.writeable = False
        self.buffers = {s: CandleBuffer(s, index) for s in names}
        self.written = 0
        self._write(history, self.primary)
        for s in names:
            if s != primary:
                self._write(self._fetch_closed(s, self.start_ms), s)
        self.written = len(history)
        self.market_data = MarketData({s: b.bars for s, b in self.buffers.items()}, growing=True)
        super().__init__(self.market_data, symbol=primary, speed=1.0)
        self.times = []  # nothing to replay: bars come from `poll`

    # -- reading ----------------------------------------------------------------------
    def _closed(self, rows: list[list[float]]) -> list[list[float]]:
        now_ms = time.time() * 1000.0
        return [r for r in rows if r[0] + self.step_ms <= now_ms]

    def _fetch_closed(self, symbol: str, since_ms: int | None) -> list[list[float]]:
        limit = self.warmup + 1 if since_ms is None else 1000
        return self._closed(self.source.fetch(self._symbols[symbol], since_ms, limit))

    def _read_warmup(self, exchange_id: str) -> list[list[float]]:
        sym = self._symbols[self.primary]
        try:
            closed = self._fetch_closed(self.primary, None)
        except Exception as exc:
            raise ConfigError(
                f"feed.exchange: cannot read {sym} {self.source.timeframe} candles from "
                f"{exchange_id} ({type(exc).__name__}: {str(exc)[:300]}); check "
                "feed.exchange (id, market, sandbox, urls, symbols) and the network"
            ) from None
        if not closed:
            raise ConfigError(
                f"feed.exchange: {exchange_id} returned no closed {sym} "
                f"{self.source.timeframe} candle; check feed.exchange.symbols and feed.timeframe"
            )
        return closed[-self.warmup :]

    def _write(self, rows: list[list[float]], symbol: str) -> None:
        """Write rows of one symbol (the primary's rows set `written` in `poll`)."""
        buf = self.buffers[symbol]
        for r in rows:
            k, off = divmod(int(r[0]) - self.start_ms, self.step_ms)
            if off == 0 and 0 <= k < self.capacity:
                buf.write(k, [float(x) for x in r[1:6]])

    # -- polling ----------------------------------------------------------------------
    @property
    def n_bars(self) -> int:
        return self.capacity

    def poll(self) -> FeedBar | None:
        """Read new closed candles, write their rows, then publish each; the last bar
        published, or None when the exchange had no new closed candle."""
        with self._poll_lock:
            since = self.start_ms + self.written * self.step_ms
            fresh = self._fetch_closed(self.primary, since)
            others = {s: self._fetch_closed(s, since) for s in self._symbols if s != self.primary}
            last: FeedBar | None = None
            for r in fresh:
                k, off = divmod(int(r[0]) - self.start_ms, self.step_ms)
                if off or k < self.written:
                    continue  # off the grid, or a candle already published
                if k >= self.capacity:
                    self._log.error(
                        "feed_full", capacity=self.capacity, hint="raise feed.max_bars; restart"
                    )
                    self.done.set()
                    break
                # A gap (no candle for a while): carry the last close forward, volume 0.
                while self.written < k:
                    self._carry(self.written)
                    last = self._announce(self.written)
                self.buffers[self.primary].write(k, [float(x) for x in r[1:6]])
                for s, rows in others.items():
                    match = [o for o in rows if int(o[0]) == int(r[0])]
                    if match:
                        self.buffers[s].write(k, [float(x) for x in match[-1][1:6]])
                    else:
                        self._carry(k, only=s)
                last = self._announce(k)
            return last

    def _carry(self, k: int, only: str | None = None) -> None:
        for s, buf in self.buffers.items():
            if only is None or s == only:
                c = buf.close(k - 1) if k > 0 else float("nan")
                buf.write(k, [c, c, c, c, 0.0])

    def _announce(self, k: int) -> FeedBar:
        self.written = k + 1
        bar = FeedBar(k, (self.start_ms + k * self.step_ms) * 1_000_000)
        self.publish(bar)
        return bar

    def step(self) -> FeedBar | None:
        """One poll now (a stepped feed: a test advances the exchange, then steps)."""
        if self._thread is not None:
            raise RuntimeError("the feed polls on its own; start the manager with feed=False")
        return None if self.done.is_set() else self.poll()

    def _run(self) -> None:
        while not self._stop.is_set() and not self.done.is_set():
            try:
                self.poll()
            except Exception as exc:
                # Retries are spent: the next poll tries again (the containers wait).
                self._log.error("feed_poll_failed", error=f"{type(exc).__name__}: {str(exc)[:300]}")
            if self._stop.wait(self.poll_interval):
                return

    def stop(self) -> None:
        self._stopping.set()
        super().stop()
