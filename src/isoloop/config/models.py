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
    "ExchangeConfig",
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
        extra="forbid",
        frozen=True,
        strict=True,
        populate_by_name=True,
        allow_inf_nan=False,
        # A docstring under a field is its description (the config reference's source).
        use_attribute_docstrings=True,
    )


class StrategyConfig(_Model):
    """Which strategy class runs (`module:Class`) and its parameters.

    `path` is the folder that holds the strategy's module when it is not installed
    (relative to the config file; default: the config's own folder). Once loaded,
    a config carries it as an absolute folder, so workers and `verify` find it.
    """

    class_path: str = Field(alias="class", pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    """the strategy class, `module:Class` (a subclass of isoloop's Strategy)"""
    params: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    """the strategy's parameters by name (numbers, strings, booleans, null, or lists of them)"""
    path: str | None = Field(default=None, min_length=1)
    """the folder holding the strategy's module when it is not installed (relative to the config;
    default: the config's folder)"""

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
    """`sample:GOOG|EURUSD|BTCUSD`, `csv:PATH`, `parquet:PATH` (relative to the config) or
    `synthetic:gbm?bars=N&seed=S`"""
    symbol: str | None = None
    """the instrument's name in orders and positions (default: from the source)"""
    clock: str = Field(default="primary", min_length=1, max_length=100)
    """`data:` only: the bars the run steps through: `primary`, `union` or a symbol's name"""
    # Dates may be written as strings (JSON manifests, Python dicts): parsed, not strict.
    start: Annotated[datetime, Strict(False)] | Annotated[date, Strict(False)] | None = None
    """the first date or time used, inclusive (default: the data's first bar)"""
    end: Annotated[datetime, Strict(False)] | Annotated[date, Strict(False)] | None = None
    """the last date or time used, inclusive (default: the data's last bar)"""

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
    """A fee rate on traded value."""

    model: Literal["percent"]
    """`percent`"""
    rate: NonNegFloat
    """the fee as a fraction of traded value, at entry and at exit"""


class PerShareCommission(_Model):
    """A fee per unit traded, with a minimum per order."""

    model: Literal["per_share"]
    """`per_share`"""
    per_share: NonNegFloat
    """the fee per unit traded"""
    minimum: NonNegFloat = 0.0
    """the least fee per order"""


class FixedCommission(_Model):
    """A fixed fee per order."""

    model: Literal["fixed"]
    """`fixed`"""
    amount: NonNegFloat
    """the fee per order, whatever its size"""


class TieredCommission(_Model):
    """Rate by traded value: `tiers` is a list of [from_value, rate], ascending."""

    model: Literal["tiered"]
    """`tiered`"""
    # YAML gives lists; a [from_value, rate] pair is accepted as the tuple it means.
    tiers: list[Annotated[tuple[NonNegFloat, NonNegFloat], Strict(False)]] = Field(min_length=1)
    """[from_value, rate] pairs, from 0 ascending: an order's whole traded value pays the rate of
    the highest tier it reaches"""

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
    """`fixed_relative`"""
    fixed: NonNegFloat = 0.0
    """cash per trade entry and exit"""
    relative: Annotated[float, Field(ge=-0.1, lt=0.1)] = 0.0
    """fraction of traded value per entry and exit; negative is a maker rebate"""


class FunctionCommission(_Model):
    """A fee function `module:function`, called as `function(size, price)` per entry and exit.

    `size` is signed (negative for shorts); the module is imported like a strategy
    class (allow-list, search folder)."""

    model: Literal["function"]
    """`function`"""
    function: str = Field(min_length=3, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    """`module:function` called as function(size, price) per entry and exit, returning the fee"""


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
    """`none`, `fixed_bps` (bps), `spread` (half the venue's spread) or `volume_impact`
    (coefficient)"""
    bps: NonNegFloat = 0.0
    """fixed_bps: basis points added to a buy's price and taken off a sell's"""
    coefficient: NonNegFloat = 0.0
    """volume_impact: price moves by coefficient × (share of the bar's volume taken)²"""


class FillConfig(_Model):
    """When market orders fill, and how much of a bar's volume an order may take."""

    on: Literal["next_open", "close"] = "next_open"
    """market orders fill at the next bar's open (`next_open`, backtesting.py's default) or at the
    current bar's close (`close`)"""
    price: Literal["open", "vwap"] = "open"
    """`open`, or `vwap`: market orders and triggered stops fill at the bar's OHLC average
    (O+H+L+C)/4, a stop never better than its stop price; limit orders ignore it; an order
    filled over several bars records the volume-weighted mean of its fills"""
    volume_limit: Annotated[float, Field(gt=0, le=1)] | None = None
    """the largest fraction of a bar's volume one order may take; the rest fills on later bars
    (PARTIAL); unset: no limit"""


class ExchangeConfig(_Model):
    """A real exchange behind the venue (the ccxt adapter): which one, which market, where.

    Only a live container's venue uses it; backtests and paper trading ignore it.
    """

    id: Literal["binance", "bybit", "okx"]
    """the exchange (ccxt's id): `binance`, `bybit` or `okx`"""
    market: Literal["spot", "perp"] = "spot"
    """`spot`, or `perp` (the linear USDT-margined perpetual)"""
    sandbox: bool = False
    """trade on the exchange's testnet / demo account (ccxt's sandbox mode)"""
    urls: dict[str, Annotated[str, Field(pattern=r"^https?://\S+$")]] | None = None
    """overrides of ccxt's API URLs by its key (`public`, `private`, `fapiPublic`, ...): a
    proxy, or the loopback exchange the tests run; null keeps ccxt's URLs"""
    symbols: dict[str, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    """isoloop symbol -> the exchange's unified ccxt symbol (`BTC/USDT`, `BTC/USDT:USDT`); a
    symbol not listed is sent as it is"""
    rate_limit: bool = True
    """ccxt's built-in rate limiter (keep it on against a real exchange)"""
    timeout_ms: Annotated[int, Field(ge=100, le=120_000)] = 10_000
    """a request's timeout in milliseconds; a timed-out order is looked up by its client id"""


class VenueConfig(_Model):
    """The simulated venue: starting cash, costs, fill rules, margin and trade netting."""

    name: str = "sim"
    """the venue's name in position keys (`venue:position_type:symbol`)"""
    cash: PositiveFloat = 10_000.0
    """starting cash"""
    # A number is a rate on traded value charged at entry and at exit.
    commission: NonNegFloat | CommissionConfig = 0.0
    """a number is a rate on traded value, charged at entry and at exit; a mapping picks another
    model by `model`"""
    spread: NonNegFloat = 0.0
    """the bid-ask spread as a fraction of price; a buy pays half of it above, a sell half below
    (backtesting.py's spread)"""
    slippage: SlippageConfig = SlippageConfig()
    """the slippage model applied to every fill price"""
    fill: FillConfig = FillConfig()
    """when market orders fill, at which price, and how much of a bar's volume they may take"""
    # Initial margin ratio: 1 is a cash account, 0.02 is 50:1 leverage (backtesting.py's
    # `margin`). The account is closed out when equity reaches zero.
    margin: Annotated[float, Field(gt=0, le=1)] = 1.0
    """initial margin ratio: 1 is a cash account, 0.02 is 50:1 leverage (backtesting.py's margin);
    closed out at zero equity"""
    # Every order opens its own trade instead of first closing opposite trades (FIFO).
    hedging: bool = False
    """every order opens its own trade instead of first closing opposite trades (FIFO)"""
    # Each new order first cancels the symbol's other orders and closes its open trades.
    exclusive_orders: bool = False
    """each new order first cancels the symbol's other orders and closes its open trades"""
    exchange: ExchangeConfig | None = None
    """the real exchange a live container's ccxt venue trades on; null (the default) for the
    simulated and paper venues"""

    @model_serializer(mode="wrap")
    def _without_new_defaults(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Settings added after the first release are left out of dumps at their
        # defaults: a config that does not use them keeps its config hash and run id,
        # and the manifests of earlier runs still verify.
        data: dict[str, Any] = handler(self)
        for key, default in (
            ("margin", 1.0),
            ("hedging", False),
            ("exclusive_orders", False),
            ("exchange", None),
        ):
            if data.get(key) == default:
                data.pop(key, None)
        return data


class RiskConfig(_Model):
    """Pre-trade checks; `None` disables a check."""

    max_position: PositiveFloat | None = None
    """largest absolute position in units per position
    key; orders that reduce a position always pass"""
    max_order_size: PositiveFloat | None = None
    """largest order in units"""
    daily_loss_limit: PositiveFloat | None = None
    """cash lost since the day's start that trips the kill switch to REDUCING"""
    max_concentration: Annotated[float, Field(gt=0, le=1)] | None = None
    """largest position value as a fraction of equity"""
    trading_hours: Annotated[tuple[LaxTime, LaxTime], Strict(False)] | None = None
    """[start, end] times of day (\"09:30\") of the bar (the data's clock, UTC when it has an
    offset) when orders are accepted; may wrap midnight"""
    max_volume_participation: Annotated[float, Field(gt=0, le=1)] | None = None
    """throttles an order to this fraction of the bar's volume"""
    max_spread_bps: PositiveFloat | None = None
    """above this venue spread (bps) orders are shrunk in proportion"""
    max_volatility: PositiveFloat | None = None
    """above this volatility (std of log returns over 20 bars) orders are shrunk in proportion"""
    max_orders_per_bar: Annotated[int, Field(gt=0)] | None = None
    """orders accepted per bar; more are denied (rate limit)"""
    kill_switch: Literal["ACTIVE", "HALTED", "REDUCING"] = "ACTIVE"
    """the starting state: ACTIVE, HALTED (no new orders) or REDUCING (only orders that reduce
    exposure)"""


class ExecutionConfig(_Model):
    """The tight loop's retry and timeout budget, in seconds of the run's clock (simulated
    time in a backtest, wall-clock time live); docs/errors.md says what each one bounds.

    The bounds are the execution documents': a submission is retried 1-10 times, an
    execution timeout is at most 300 s and one reconciliation attempt at most 60 s.
    """

    max_retry_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    """retries of a HIGH-severity error (submission, reconciliation, rolled-back block) before it
    escalates"""
    retry_delay_seconds: NonNegFloat = 0.1
    """first retry delay; attempt n waits retry_delay_seconds · 2^n"""
    tight_loop_timeout: PositiveFloat = 120.0
    """seconds one order's whole loop (submission
    and reconciliation waits) may take; then EXEC-005"""
    execution_timeout: Annotated[float, Field(gt=0, le=300)] = 30.0
    """seconds from routing an order to the venue's answer, retries included; then EXEC-007"""
    reconciliation_timeout: Annotated[float, Field(gt=0, le=60)] = 10.0
    """seconds one reconciliation attempt may take; a longer
    one counts as a mismatch and is retried"""


class ObservabilityConfig(_Model):
    """What a run's events (`events.jsonl`) record beyond the default."""

    # One debug event per bar (`bar`: index, time, equity, working orders); off by
    # default because a long run's events would grow by a line per bar.
    bar_events: bool = False
    """one debug event per bar (index, time, equity, working orders) in events.jsonl"""


class RunConfig(_Model):
    """A backtest run: what to trade, on which data and venue, under which limits."""

    kind: Literal["backtest"] = "backtest"
    """`backtest` (may be left out)"""
    name: Annotated[str, Field(max_length=100)] | None = None
    """a name for the run: the run id and
    folder start with it (default: the strategy class's name)"""
    strategy: StrategyConfig
    """the strategy class and its parameters"""
    data: DataConfig
    """the primary instrument's data; its `clock` picks the bars the run steps through"""
    instruments: list[DataConfig] = Field(default_factory=list)
    """more instruments traded in the same account (one data source each)"""
    venue: VenueConfig = VenueConfig()
    """the simulated venue: cash, costs, fills, margin"""
    risk: RiskConfig = RiskConfig()
    """pre-trade checks, size throttling and the kill switch"""
    execution: ExecutionConfig = ExecutionConfig()
    """the tight loop's retry and timeout budget"""
    seed: Annotated[int, Field(ge=0)] = 0
    """seeds every RNG of the run (SeedSequence)"""
    container: str = "backtest"
    """the blueprint (a name in containers/ or a .yaml path) that fills the run's slots"""
    # Close trades still open at the end (at the last bar), so they count in the stats;
    # false leaves them open and out of the trades table (backtesting.py's default).
    finalize_trades: bool = True
    """close trades still open at the last bar so they count in the stats; false leaves them open
    and out of the trades table (backtesting.py's default)"""
    observability: ObservabilityConfig = ObservabilityConfig()
    """what the run's events.jsonl records beyond the default"""

    @model_serializer(mode="wrap")
    def _without_default_finalize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left out of dumps at its default: existing config hashes and run ids stay.
        data: dict[str, Any] = handler(self)
        if data.get("finalize_trades") is True:
            data.pop("finalize_trades", None)
        if data.get("observability") == {"bar_events": False}:
            data.pop("observability", None)
        return data
