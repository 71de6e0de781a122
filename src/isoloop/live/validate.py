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
from isoloop.live.preflight import check_exchange_credentials
from isoloop.scope import load_blueprint

__all__ = ["validate_live_config_file"]

# The shared services the live manager gives every container.
_LIVE_SHARED = ("market_data", "live", "router")


def validate_live_config_file(path: Path) -> str:
    """A one-line summary, or a `ConfigError`/`DataError`/`BlueprintError` naming the problem."""
    cfg = load_live_config(path)
    feed = cfg.feed
    md, _ = load_market_data([DataConfig(source=feed.source, symbol=feed.symbol)], None)
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
    bars = len(md.primary) if feed.max_bars is None else min(feed.max_bars, len(md.primary))
    return (
        f"live ({cfg.environment}) of {len(cfg.strategies)} strategies "
        f"({', '.join(s.name for s in cfg.strategies)}) on a {feed.mode} of {bars} bars"
        + (f"; exchange keys of {keyed} venue(s) set" if keyed else "")
    )
