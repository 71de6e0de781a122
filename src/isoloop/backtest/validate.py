"""What a backtest checks up front (config, data, blueprint, strategy), without running."""

from __future__ import annotations

from typing import Any

from isoloop.backtest.run import resolve_sources, with_config_source
from isoloop.config import load_run_config
from isoloop.data import load_market_data
from isoloop.errors import ConfigError
from isoloop.scope import ScopeCoordinator, SharedServices

__all__ = ["validate_run_config"]


def validate_run_config(config: Any, overrides: dict[str, Any] | None = None) -> str:
    """Config, data, blueprint and strategy parameters; returns a one-line summary."""
    cfg, base = load_run_config(config, overrides)
    cfg = resolve_sources(cfg, base)
    md, _ = load_market_data([cfg.data, *cfg.instruments], base)
    coordinator = ScopeCoordinator(SharedServices(market_data=md))
    try:
        # Initializing builds every component, so strategy parameters are checked too.
        with coordinator.scope(cfg.container, config=cfg, run_id="validate"):
            pass
    except ConfigError as exc:
        raise with_config_source(exc, config) from None
    finally:
        coordinator.close()
    bars = ", ".join(f"{s} {len(b)} bars" for s, b in md.items())
    return f"backtest of {cfg.strategy.class_path} on {bars}, container {cfg.container!r}"
