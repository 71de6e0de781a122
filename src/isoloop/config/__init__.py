"""Run configuration: pydantic models and loading from YAML with overrides."""

from isoloop.config.models import (
    CommissionConfig,
    DataConfig,
    ExecutionConfig,
    FillConfig,
    FixedCommission,
    PercentCommission,
    PerShareCommission,
    RiskConfig,
    RunConfig,
    SlippageConfig,
    StrategyConfig,
    TieredCommission,
    VenueConfig,
)

__all__ = [
    "CommissionConfig",
    "DataConfig",
    "ExecutionConfig",
    "FillConfig",
    "FixedCommission",
    "PerShareCommission",
    "PercentCommission",
    "RiskConfig",
    "RunConfig",
    "SlippageConfig",
    "StrategyConfig",
    "TieredCommission",
    "VenueConfig",
]
