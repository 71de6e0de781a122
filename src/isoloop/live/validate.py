"""Check a live config up front: the config, the feed's data, every blueprint and strategy class.

A venue's own credentials (`credentials:`) are not required here (they are checked
when a container initializes, in the environment that runs it); exchange keys
(`BASIS_<ENV>__CEX__…`, blueprints with an `ExchangeCredentials` slot) are, as the
manager's pre-flight checks them (docs/security.md). Nothing else is constructed: every
slot's class is imported and checked against the live roles, and strategy
parameters go through the strategy's class-level check only (docs/security.md).
"""

from __future__ import annotations

from pathlib import Path

from isoloop.config.loading import check_strategy_class
from isoloop.config.models import DataConfig
from isoloop.data import load_market_data
from isoloop.engine.roles import LIVE_ROLES, check_strategy_params
from isoloop.errors import ConfigError
from isoloop.live.config import load_live_config
from isoloop.live.feed_factory import check_exchange_feed_engines
from isoloop.live.preflight import check_exchange_credentials
from isoloop.scope import load_blueprint

__all__ = ["validate_live_config_file"]

# The shared services the live manager gives every container.
_LIVE_SHARED = ("market_data", "live", "router")


def validate_live_config_file(path: Path) -> str:
    """A one-line summary, or a `ConfigError`/`DataError`/`BlueprintError` naming the problem."""
    cfg = load_live_config(path)
    feed = cfg.feed
    if feed.mode == "exchange":
        # Offline: the candles are read when the manager starts; validate checks that
        # every container's engine can take bars the feed adds later.
        check_exchange_feed_engines(cfg)
        what = f"an exchange feed of {feed.timeframe} candles"
        if feed.exchange is not None:
            what += f" from {feed.exchange.id} {feed.exchange.market}"
    else:
        md, _ = load_market_data([DataConfig(source=feed.source, symbol=feed.symbol)], None)
        n = len(md.primary)
        what = f"a {feed.mode} of {n if feed.max_bars is None else min(feed.max_bars, n)} bars"
    for s in cfg.strategies:
        run_cfg = cfg.run_config(s.name)
        where = f"{path}: strategies[{s.name}]"
        strategy_cls = check_strategy_class(run_cfg, where)
        blueprint = load_blueprint(cfg.blueprint_for(s.name))
        blueprint.check(run_cfg, roles=LIVE_ROLES, shared=_LIVE_SHARED)
        try:
            check_strategy_params(strategy_cls, run_cfg.strategy.params)
        except ConfigError as exc:
            raise type(exc)(f"{where}: {exc}") from None
    keyed = check_exchange_credentials(cfg)
    return (
        f"live ({cfg.environment}) of {len(cfg.strategies)} strategies "
        f"({', '.join(s.name for s in cfg.strategies)}) on {what}"
        + (f"; exchange keys of {keyed} venue(s) set" if keyed else "")
    )
