"""Check a live config up front: the config, the feed's data, every blueprint and strategy class.

Credentials are not required here (they are checked when a container
initializes, in the environment that runs it).
"""

from __future__ import annotations

from pathlib import Path

from isoloop.config.loading import check_strategy_class
from isoloop.config.models import DataConfig
from isoloop.data import load_market_data
from isoloop.live.config import load_live_config
from isoloop.scope import load_blueprint

__all__ = ["validate_live_config_file"]


def validate_live_config_file(path: Path) -> str:
    """A one-line summary, or a `ConfigError`/`DataError`/`BlueprintError` naming the problem."""
    cfg = load_live_config(path)
    feed = cfg.feed
    md, _ = load_market_data([DataConfig(source=feed.source, symbol=feed.symbol)], None)
    for s in cfg.strategies:
        run_cfg = cfg.run_config(s.name)
        check_strategy_class(run_cfg, f"{path}: strategies[{s.name}]")
        load_blueprint(cfg.blueprint_for(s.name)).plan(run_cfg)
    bars = len(md.primary) if feed.max_bars is None else min(feed.max_bars, len(md.primary))
    return (
        f"live ({cfg.environment}) of {len(cfg.strategies)} strategies "
        f"({', '.join(s.name for s in cfg.strategies)}) on a {feed.mode} of {bars} bars"
    )
