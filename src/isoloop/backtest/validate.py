"""What a backtest checks up front (config, data, blueprint, strategy), without running.

Validation builds no component and calls no user code beyond importing the
modules the config names (their import-time code runs) and a strategy's
class-level `validate_params` hook, when it has one (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from isoloop.backtest.resolve import BACKTEST_SHARED, resolve_sources, with_config_source
from isoloop.config import RunConfig, load_run_config
from isoloop.config.loading import check_strategy_class
from isoloop.data import load_market_data
from isoloop.engine.roles import BACKTEST_ROLES, check_strategy_params
from isoloop.errors import ConfigError
from isoloop.scope import load_blueprint

__all__ = ["check_run_plan", "validate_run_config"]


def check_run_plan(cfg: RunConfig) -> None:
    """The blueprint's plan (classes, roles, parameters, `@config` refs) and strategy params.

    Nothing is constructed: classes are imported and inspected, and strategy
    parameters go through the strategy's class-level check only.
    """
    blueprint = load_blueprint(cfg.container)
    blueprint.check(cfg, roles=BACKTEST_ROLES, shared=BACKTEST_SHARED)
    strategy_cls = check_strategy_class(cfg, "config")
    check_strategy_params(strategy_cls, cfg.strategy.params)


def validate_run_config(config: Any, overrides: dict[str, Any] | None = None) -> str:
    """Config, data, blueprint and strategy parameters; returns a one-line summary."""
    cfg, base = load_run_config(config, overrides)
    cfg = resolve_sources(cfg, base)
    md, _ = load_market_data([cfg.data, *cfg.instruments], base)
    try:
        check_run_plan(cfg)
    except ConfigError as exc:
        raise with_config_source(exc, config) from None
    bars = ", ".join(f"{s} {len(b)} bars" for s, b in md.items())
    return f"backtest of {cfg.strategy.class_path} on {bars}, container {cfg.container!r}"
