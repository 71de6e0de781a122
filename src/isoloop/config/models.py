"""Pydantic v2 models of a run config.

Strict where it protects the user (unknown keys are rejected, numbers are not
parsed from strings) and frozen so a config object can be shared by every
component of a run without anyone changing it under the others.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    field_validator,
    model_serializer,
    model_validator,
)

__all__ = [
    "CommissionConfig",
    "DataConfig",
    "ExecutionConfig",
    "FillConfig",
    "FixedCommission",
    "ObservabilityConfig",
    "PerShareCommission",
    "PercentCommission",
    "RiskConfig",
    "RunConfig",
    "SlippageConfig",
    "StrategyConfig",
    "TieredCommission",
    "VenueConfig",
]

Scalar = bool | int | float | str | None
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
LaxTime = Annotated[time, Strict(False)]  # "09:30" from YAML is a string


class _Model(BaseModel):
    # inf and NaN are never a meaningful amount, rate or limit here (`venue.cash=.inf`
    # would only fail later, inside the run): refuse them with the key named.
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, populate_by_name=True, allow_inf_nan=False
    )


class StrategyConfig(_Model):
    """Which strategy class runs (`module:Class`) and its parameters.

    `path` is the folder that holds the strategy's module when it is not installed
    (relative to the config file; default: the config's own folder). Once loaded,
    a config carries it as an absolute folder, so workers and `verify` find it.
    """

    class_path: str = Field(alias="class", pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    params: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    path: str | None = Field(default=None, min_length=1)

    @model_serializer(mode="wrap")
    def _without_default_path(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left out of dumps when unset: configs that name an installed strategy keep the
        # config hash, run id and sweep id they had before `path` existed.
        data: dict[str, Any] = handler(self)
        if data.get("path") is None:
            data.pop("path", None)
        return data


class DataConfig(_Model):
    """One instrument's data: a source URI, an optional symbol name and a date window.

    `clock` (only on `data:`, the run's primary instrument) picks the bars the run
    steps through: `primary` (this instrument's timestamps), `union` (every
    timestamp any instrument has) or a symbol's name (that instrument's timestamps).
    """

    source: str = Field(min_length=1)
    symbol: str | None = None
    clock: str = Field(default="primary", min_length=1, max_length=100)
    # Dates may be written as strings (JSON manifests, Python dicts): parsed, not strict.
    start: Annotated[datetime, Strict(False)] | Annotated[date, Strict(False)] | None = None
    end: Annotated[datetime, Strict(False)] | Annotated[date, Strict(False)] | None = None

    @model_validator(mode="after")
    def _window(self) -> DataConfig:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError("start must not be after end")
        return self

    @model_serializer(mode="wrap")
    def _without_default_clock(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # The default clock is left out of dumps, so a config that does not set it
        # keeps the config hash (and run id) it had before the key existed, and the
        # manifests of earlier runs still verify.
        data: dict[str, Any] = handler(self)
        if self.clock == "primary":
            data.pop("clock", None)
        return data


class PercentCommission(_Model):
    model: Literal["percent"]
    rate: NonNegFloat


class PerShareCommission(_Model):
    model: Literal["per_share"]
    per_share: NonNegFloat
    minimum: NonNegFloat = 0.0


class FixedCommission(_Model):
    model: Literal["fixed"]
    amount: NonNegFloat


class TieredCommission(_Model):
    """Rate by traded value: `tiers` is a list of [from_value, rate], ascending."""

    model: Literal["tiered"]
    # YAML gives lists; a [from_value, rate] pair is accepted as the tuple it means.
    tiers: list[Annotated[tuple[NonNegFloat, NonNegFloat], Strict(False)]] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def _ascending(cls, tiers: list[tuple[float, float]]) -> list[tuple[float, float]]:
        starts = [t[0] for t in tiers]
        if starts != sorted(starts) or len(set(starts)) != len(starts) or starts[0] != 0:
            raise ValueError("tiers must start at 0 and be strictly ascending by value")
        return tiers


class FixedRelativeCommission(_Model):
    """`fixed` cash plus `relative` × traded value per trade entry and exit (backtesting.py).

    A negative `relative` is a maker rebate."""

    model: Literal["fixed_relative"]
    fixed: NonNegFloat = 0.0
    relative: Annotated[float, Field(ge=-0.1, lt=0.1)] = 0.0


class FunctionCommission(_Model):
    """A fee function `module:function`, called as `function(size, price)` per entry and exit.

    `size` is signed (negative for shorts); the module is imported like a strategy
    class (allow-list, search folder)."""

    model: Literal["function"]
    function: str = Field(min_length=3, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


CommissionConfig = Annotated[
    PercentCommission
    | PerShareCommission
    | FixedCommission
    | TieredCommission
    | FixedRelativeCommission
    | FunctionCommission,
    Field(discriminator="model"),
]


class SlippageConfig(_Model):
    """none | fixed_bps (bps) | spread (half the venue spread) | volume_impact (coefficient)."""

    model: Literal["none", "fixed_bps", "spread", "volume_impact"] = "none"
    bps: NonNegFloat = 0.0
    coefficient: NonNegFloat = 0.0


class FillConfig(_Model):
    """When market orders fill, and how much of a bar's volume an order may take."""

    on: Literal["next_open", "close"] = "next_open"
    price: Literal["open", "vwap"] = "open"
    volume_limit: Annotated[float, Field(gt=0, le=1)] | None = None


class VenueConfig(_Model):
    name: str = "sim"
    cash: PositiveFloat = 10_000.0
    # A number is a rate on traded value charged at entry and at exit.
    commission: NonNegFloat | CommissionConfig = 0.0
    spread: NonNegFloat = 0.0
    slippage: SlippageConfig = SlippageConfig()
    fill: FillConfig = FillConfig()
    # Initial margin ratio: 1 is a cash account, 0.02 is 50:1 leverage (backtesting.py's
    # `margin`). The account is closed out when equity reaches zero.
    margin: Annotated[float, Field(gt=0, le=1)] = 1.0
    # Every order opens its own trade instead of first closing opposite trades (FIFO).
    hedging: bool = False
    # Each new order first cancels the symbol's other orders and closes its open trades.
    exclusive_orders: bool = False

    @model_serializer(mode="wrap")
    def _without_new_defaults(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Settings added after the first release are left out of dumps at their
        # defaults: a config that does not use them keeps its config hash and run id,
        # and the manifests of earlier runs still verify.
        data: dict[str, Any] = handler(self)
        for key, default in (("margin", 1.0), ("hedging", False), ("exclusive_orders", False)):
            if data.get(key) == default:
                data.pop(key, None)
        return data


class RiskConfig(_Model):
    """Pre-trade checks; `None` disables a check."""

    max_position: PositiveFloat | None = None
    max_order_size: PositiveFloat | None = None
    daily_loss_limit: PositiveFloat | None = None
    max_concentration: Annotated[float, Field(gt=0, le=1)] | None = None
    trading_hours: Annotated[tuple[LaxTime, LaxTime], Strict(False)] | None = None
    max_volume_participation: Annotated[float, Field(gt=0, le=1)] | None = None
    max_spread_bps: PositiveFloat | None = None
    max_volatility: PositiveFloat | None = None
    max_orders_per_bar: Annotated[int, Field(gt=0)] | None = None
    kill_switch: Literal["ACTIVE", "HALTED", "REDUCING"] = "ACTIVE"


class ExecutionConfig(_Model):
    """The tight loop's retry and timeout budget, in seconds of the run's clock (simulated
    time in a backtest, wall-clock time live); docs/errors.md says what each one bounds.

    The bounds are the execution documents': a submission is retried 1-10 times, an
    execution timeout is at most 300 s and one reconciliation attempt at most 60 s.
    """

    max_retry_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    retry_delay_seconds: NonNegFloat = 0.1
    tight_loop_timeout: PositiveFloat = 120.0
    execution_timeout: Annotated[float, Field(gt=0, le=300)] = 30.0
    reconciliation_timeout: Annotated[float, Field(gt=0, le=60)] = 10.0


class ObservabilityConfig(_Model):
    """What a run's events (`events.jsonl`) record beyond the default."""

    # One debug event per bar (`bar`: index, time, equity, working orders); off by
    # default because a long run's events would grow by a line per bar.
    bar_events: bool = False


class RunConfig(_Model):
    """A backtest run: what to trade, on which data and venue, under which limits."""

    kind: Literal["backtest"] = "backtest"
    name: Annotated[str, Field(max_length=100)] | None = None
    strategy: StrategyConfig
    data: DataConfig
    instruments: list[DataConfig] = Field(default_factory=list)
    venue: VenueConfig = VenueConfig()
    risk: RiskConfig = RiskConfig()
    execution: ExecutionConfig = ExecutionConfig()
    seed: Annotated[int, Field(ge=0)] = 0
    container: str = "backtest"
    # Close trades still open at the end (at the last bar), so they count in the stats;
    # false leaves them open and out of the trades table (backtesting.py's default).
    finalize_trades: bool = True
    observability: ObservabilityConfig = ObservabilityConfig()

    @model_serializer(mode="wrap")
    def _without_default_finalize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left out of dumps at its default: existing config hashes and run ids stay.
        data: dict[str, Any] = handler(self)
        if data.get("finalize_trades") is True:
            data.pop("finalize_trades", None)
        if data.get("observability") == {"bar_events": False}:
            data.pop("observability", None)
        return data
