"""Live containers on the ccxt venue against the loopback exchange: bars, blueprint,
keys, configs and the lockstep that makes a live run's orders deterministic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from isoloop.engine.strategy import Strategy
from isoloop.live import LiveTradingManager
from support.live_helpers import live_config

ROOT = Path(__file__).resolve().parents[2]
# Fake keys, long and distinctive so a grep of every output cannot miss a leak.
FAKE_KEY = "LbKey9f8e7d6c5b4a39281706fedcba"
FAKE_SECRET = "LbSecret0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ENV = {
    f"BASIS_TESTNET__CEX__BINANCE_{leg}_{key}": value
    for leg in ("SPOT", "FUTURES")
    for key, value in (("API_KEY", FAKE_KEY), ("SECRET", FAKE_SECRET))
}
SYMBOL = "BTCUSD"


class ExchangeScript(Strategy):
    """Market orders of `units` on given bars: `buy_bars`, `sell_bars` (lists of ints);
    `position_type` spot or perp. Whole, fixed sizes: a backtest on the same bars
    places exactly the same orders."""

    def init(self) -> None:
        self.buys = set(self.params.get("buy_bars", []))
        self.sells = set(self.params.get("sell_bars", []))

    def on_bar(self, i: int) -> None:
        p = self.params
        kw: dict[str, Any] = {"units": float(p.get("units", 1.0))}
        if p.get("position_type", "spot") == "perp":
            kw["position_type"] = "perp"
        if i in self.buys:
            self.buy(**kw)
        if i in self.sells:
            self.sell(**kw)


class RestingBuy(Strategy):
    """At `bar`: one buy limit of 1 unit at `price` (it rests at the exchange); at
    `market_bar` (optional) a market buy of 0.5 first."""

    def on_bar(self, i: int) -> None:
        if i == self.params.get("market_bar"):
            self.buy(units=0.5)
        if i == self.params["bar"]:
            self.buy(units=1.0, limit=float(self.params["price"]))


def bars_frame(n: int = 40, seed: int = 11) -> pd.DataFrame:
    """A deterministic hourly walk around 100 with 2-decimal prices (the exchange's tick)."""
    rng = np.random.default_rng(seed)
    close = np.round(100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n))), 2)
    open_ = np.round(np.concatenate([[100.0], close[:-1]]), 2)
    high = np.round(np.maximum(open_, close) + 0.5, 2)
    low = np.round(np.minimum(open_, close) - 0.5, 2)
    index = pd.date_range("2024-01-01", periods=n, freq="1h", name="Date")
    return pd.DataFrame(
        {"Open": open_, "High": high, "Low": low, "Close": close, "Volume": np.full(n, 1e6)},
        index=index,
    )


def write_csv(frame: pd.DataFrame, folder: Path) -> Path:
    path = folder / f"{SYMBOL}.csv"
    frame.to_csv(path)
    return path


def ccxt_blueprint(folder: Path) -> Path:
    """`containers/live.yaml` with the ccxt venue and the exchange credentials slot."""
    text = (ROOT / "containers" / "live.yaml").read_text(encoding="utf-8")
    old_venue = "class: isoloop.live.slots.broker:BrokerAdapterRequired"
    old_cred = "credentials: isoloop.live.slots.credentials:StrategyCredentials"
    assert old_venue in text and old_cred in text
    text = text.replace("name: live", "name: live_ccxt_test")
    text = text.replace(old_venue, "class: isoloop.venues.ccxt:CcxtVenue")
    text = text.replace(old_cred, "credentials: isoloop.live.slots.credentials:ExchangeCredentials")
    path = folder / "live_ccxt_test.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def exchange_strategy(
    name: str,
    blueprint: Path,
    urls: dict[str, str],
    *,
    market: str = "spot",
    params: dict[str, Any] | None = None,
    cls: str = "support.exchange_live:ExchangeScript",
    venue_name: str | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "container": str(blueprint),
        "strategy": {"class": cls, "params": {"position_type": market, **(params or {})}},
        "venue": {
            "name": venue_name or market,
            "cash": 100000.0,
            "exchange": {
                "id": "binance",
                "market": market,
                "sandbox": True,
                "urls": urls,
                "symbols": {SYMBOL: "BTC/USDT"},
            },
        },
        # Replay's simulated clock: backoff costs no wall time.
        "execution": {"retry_delay_seconds": 0.05, "max_retry_attempts": 4},
    }


def exchange_live_config(
    state_dir: Path, csv: Path, strategies: list[dict[str, Any]], bars: int
) -> dict[str, Any]:
    return live_config(
        state_dir,
        strategies,
        bars=bars,
        environment="live",
        feed={"source": f"csv:{csv}", "speed": 3600 * 5000},
    )


def lockstep(m: LiveTradingManager, exchange: Any, bars: range) -> None:
    """For each bar: the exchange's (or each exchange's, given a list) current bar first,
    then the manager's stepped feed releases the same bar and waits until every container
    processed it (market orders then fill at that bar's close)."""
    exchanges = exchange if isinstance(exchange, list) else [exchange]
    for i in bars:
        for ex in exchanges:
            ex.set_bar(i)
        assert m.step_feed() == i
