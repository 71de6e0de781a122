"""Run configuration: pydantic models and loading from YAML with overrides."""

from isoloop.config.loading import (
    apply_overrides,
    describe_validation_error,
    load_run_config,
    parse_set_options,
    read_yaml,
    validate_model,
)
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
    "apply_overrides",
    "describe_validation_error",
    "load_run_config",
    "parse_set_options",
    "read_yaml",
    "validate_model",
]
