"""Which shared feed a live config asks for: a replay of a data source, or the
exchange's candles (`feed.mode: exchange`), with the market data it fills."""

from __future__ import annotations

from typing import Any

from isoloop.config.classpath import import_class
from isoloop.config.models import DataConfig
from isoloop.data import MarketData, load_market_data
from isoloop.errors import ConfigError
from isoloop.live.config import LiveConfig
from isoloop.live.exchange_feed import ExchangeFeed
from isoloop.live.feed import ReplayFeed
from isoloop.live.slots.exchange_engine import ExchangeFeedEngine
from isoloop.scope import load_blueprint

__all__ = ["build_feed", "check_exchange_feed_engines"]

_ENGINE = "isoloop.live.slots.exchange_engine:ExchangeFeedEngine"


def check_exchange_feed_engines(config: LiveConfig) -> None:
    """With `feed.mode: exchange` every container's `engine` slot must copy new rows in
    (`ExchangeFeedEngine`): a plain `LiveEngine` would read the empty rows of bars that
    did not exist when it was built."""
    for s in config.strategies:
        bp = load_blueprint(config.blueprint_for(s.name))
        ref = next((x.class_ref for x in bp.slots if x.name == "engine"), None)
        where = f"{bp.path}: slot engine"
        cls = import_class(ref, where=where) if ref and not ref.startswith("@") else None
        if not (isinstance(cls, type) and issubclass(cls, ExchangeFeedEngine)):
            raise ConfigError(
                f"strategies[{s.name}]: feed.mode: exchange needs the engine slot {_ENGINE} "
                f"(blueprint {bp.path} has {ref}); set `engine: {_ENGINE}` in that blueprint "
                "or name one that has it in `container:`"
            )


def build_feed(config: LiveConfig, log: Any) -> tuple[MarketData, ReplayFeed]:
    """The feed and the market data every container shares (read-only for them)."""
    f = config.feed
    if f.mode == "exchange":
        check_exchange_feed_engines(config)
        feed = ExchangeFeed(f, log)
        return feed.market_data, feed
    md, _ = load_market_data([DataConfig(source=f.source, symbol=f.symbol)], None)
    return md, ReplayFeed(md, symbol=f.symbol, speed=f.speed, max_bars=f.max_bars)
