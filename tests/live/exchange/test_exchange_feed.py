"""`feed.mode: exchange`: a live container on the ccxt venue fed by the loopback
exchange's own candles (ccxt's public `fetch_ohlcv`, no keys) trades what a backtest of
the same bars trades; a candle shown again is not published again, a late or duplicate
bar is gated, a network fault is retried, an unreachable exchange is one clear error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from isoloop import run_backtest
from isoloop.errors import ConfigError
from isoloop.live import LiveTradingManager
from isoloop.live.config import FeedConfig
from isoloop.live.exchange_feed import ExchangeFeed
from isoloop.live.feed import FeedBar
from isoloop.live.replay import replay_session
from support.exchange_feed_live import feed_blueprint, plain_engine_blueprint
from support.exchange_live import ENV, SYMBOL, bars_frame, exchange_strategy
from support.live_helpers import live_config, state_of, wait_for
from support.loopback_exchange import LoopbackExchange

N = 40
WARMUP = 12
CLS = "support.exchange_feed_live:SmaUnits"


def _feed(urls: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "mode": "exchange",
        "exchange": {
            "id": "binance",
            "market": "perp",
            "urls": urls,
            "symbols": {SYMBOL: "BTC/USDT:USDT"},
        },
        "timeframe": "1h",
        "warmup": WARMUP,
        "max_bars": N - WARMUP,
        "poll_interval": 0.05,
        **extra,
    }


def _config(tmp: Path, urls: dict[str, str], blueprint: Path, **feed: Any) -> dict[str, Any]:
    strat = exchange_strategy("sma", blueprint, urls, market="perp", cls=CLS)
    cfg = live_config(tmp / "state", [strat], environment="live")
    cfg["feed"] = _feed(urls, **feed)
    return cfg


def _backtest_orders(frame: Any, tmp: Path) -> list[tuple[str, float, int, float]]:
    csv = tmp / "bars.csv"
    frame.to_csv(csv)
    result = run_backtest(
        {
            "strategy": {"class": CLS},
            "data": {"source": f"csv:{csv}"},
            "venue": {"cash": 100000.0, "fill": {"on": "close"}},
            "finalize_trades": False,
        }
    )
    return [
        (o["side"], o["size"], o["submitted_bar"], o["avg_price"])
        for o in result.orders
        if o["status"] == "FILLED"
    ]


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)


@pytest.mark.usefixtures("keys")
def test_container_on_exchange_candles_trades_the_backtests_orders(tmp_path: Path) -> None:
    frame = bars_frame(N, seed=5)
    bp = feed_blueprint(tmp_path)
    with LoopbackExchange(
        {"BTCUSDT": frame},
        api_key=ENV["BASIS_TESTNET__CEX__BINANCE_FUTURES_API_KEY"],
        secret=ENV["BASIS_TESTNET__CEX__BINANCE_FUTURES_SECRET"],
    ) as ex:
        ex.set_bar(WARMUP - 1)  # the exchange's history at start: bars 0..WARMUP-1
        m = LiveTradingManager(_config(tmp_path, ex.urls, bp))
        m.start(api=False, feed=False)
        try:
            feed = m.feed
            assert feed is not None
            # The warmup rows are history: in the shared data, never published.
            close = m._market[SYMBOL].close if m._market is not None else None
            assert close is not None and not close.flags.writeable
            assert close[:WARMUP].tolist() == frame["Close"].iloc[:WARMUP].tolist()
            assert feed.published == 0
            for i in range(WARMUP, N):
                ex.set_bar(i)
                assert m.step_feed() == i
            # Nothing new at the exchange: the same candles again publish nothing.
            assert m.step_feed() is None
            assert close.tolist() == frame["Close"].tolist()
            execution = m.container("sma")._scope.get("execution")
            live_orders = [
                (str(o.side), o.size, o.submitted_bar, o.avg_price)
                for o in execution.orders
                if str(o.status) == "FILLED"
            ]
            fills = ex.fills()
            # A late copy of an old bar and a duplicate of the last one: both gated.
            t = m._market[SYMBOL].index.view("int64").tolist()
            feed.publish(FeedBar(N - 3, t[N - 3]))
            feed.publish(FeedBar(N - 1, t[N - 1]))
            wait_for(lambda: state_of(m, "sma")["feed"]["queued"] == 0, 30, "the gate to drain")
            st = state_of(m, "sma")
            assert st["feed"]["out_of_order"] == 1 and st["feed"]["duplicates"] == 1
            assert st["last_bar"] == N - 1 and st["state"] == "running"
            assert st["fills"] == len(live_orders)
        finally:
            m.shutdown()
    expected = [o for o in _backtest_orders(frame, tmp_path) if o[2] >= WARMUP]
    assert len(expected) >= 3
    assert live_orders == expected
    # Every order reached the exchange once.
    assert len(fills) == len(expected)
    # The candles were never stored as a data source: a replay is refused, not attempted.
    with pytest.raises(ConfigError, match="exchange feed's candles"):
        replay_session(tmp_path / "state")


@pytest.mark.usefixtures("keys")
def test_a_klines_fault_is_retried_and_an_unreachable_exchange_is_one_error(
    tmp_path: Path,
) -> None:
    frame = bars_frame(WARMUP + 3, seed=5)
    bp = feed_blueprint(tmp_path)
    with LoopbackExchange(
        {"BTCUSDT": frame},
        api_key=ENV["BASIS_TESTNET__CEX__BINANCE_FUTURES_API_KEY"],
        secret=ENV["BASIS_TESTNET__CEX__BINANCE_FUTURES_SECRET"],
    ) as ex:
        ex.set_bar(WARMUP - 1)
        urls = ex.urls
        m = LiveTradingManager(_config(tmp_path, urls, bp))
        m.start(api=False, feed=False)
        try:
            ex.set_bar(WARMUP)
            ex.inject("5xx", count=2, endpoint="GET /fapi/v1/klines")
            assert m.step_feed() == WARMUP
            assert ex.requests["GET /fapi/v1/klines"] >= 3
            assert isinstance(m.feed, ExchangeFeed) and m.feed.source.failures == 2
            # On its own (what `isoloop live` runs): the polling thread finds the next candle.
            m.feed.start()
            ex.set_bar(WARMUP + 1)
            wait_for(lambda: state_of(m, "sma")["last_bar"] == WARMUP + 1, 30, "the polled bar")
        finally:
            m.shutdown()
    # Nothing listens there: the retries are spent, then one error naming the setting.
    dead = {k: "http://127.0.0.1:9/" + v.split("/", 3)[3] for k, v in urls.items()}
    m = LiveTradingManager(_config(tmp_path / "x", dead, bp, retries=1))
    with pytest.raises(ConfigError, match=r"feed\.exchange: cannot read BTC/USDT:USDT"):
        m.start(api=False, feed=False)
    m.shutdown()
    # A blueprint whose engine cannot take new bars is refused before any request.
    (tmp_path / "plain").mkdir()
    plain = plain_engine_blueprint(tmp_path / "plain")
    m = LiveTradingManager(_config(tmp_path / "y", dead, plain))
    with pytest.raises(ConfigError, match="needs the engine slot"):
        m.start(api=False, feed=False)
    m.shutdown()


def test_replay_configs_dump_as_before() -> None:
    feed = FeedConfig.model_validate({"source": "sample:EURUSD"})
    assert feed.model_dump(mode="json") == {
        "mode": "replay",
        "source": "sample:EURUSD",
        "symbol": None,
        "speed": 1.0,
        "max_bars": None,
        "stale_after": None,
        "clock": "auto",
    }
    with pytest.raises(ValueError, match=r"feed\.source is required"):
        FeedConfig.model_validate({})
