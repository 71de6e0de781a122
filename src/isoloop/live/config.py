"""The live/paper config: strategies, a shared feed, state, API and restart policy.

Each strategy becomes a `RunConfig` for its container, so the same engine
components (execution, risk, positions, strategy) read the same models they
read in a backtest.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from isoloop.config.loading import read_yaml, validate_model
from isoloop.config.models import (
    DataConfig,
    ExchangeConfig,
    ExecutionConfig,
    RiskConfig,
    RunConfig,
    StrategyConfig,
    VenueConfig,
)
from isoloop.errors import ConfigError

__all__ = [
    "ApiConfig",
    "FeedConfig",
    "LiveConfig",
    "LiveStrategyConfig",
    "RestartPolicy",
    "ShutdownConfig",
    "load_live_config",
]

PosFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
CredKey = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


class FeedConfig(_Model):
    """The shared market data feed. `replay` plays a data source at `speed` × real time;
    `exchange` reads closed candles from an exchange's public market data (ccxt)."""

    mode: Literal["replay", "exchange"] = Field(
        default="replay",
        description="`replay` plays a data source; `exchange` polls an exchange's closed "
        "candles (`exchange`, `timeframe`, `warmup`, `poll_interval`)",
    )
    source: str = Field(
        default="",
        description="the data source every strategy is fed: `sample:`, `csv:`, `parquet:`, "
        "`synthetic:` (paths relative to the config file); required in replay, unused with "
        "`mode: exchange`",
    )
    symbol: str | None = Field(
        default=None, description="the symbol's name (default: taken from the source)"
    )
    speed: PosFloat = Field(
        default=1.0, description="replay speed factor: data seconds per real second"
    )
    # Replay only the first N bars (quick demos and tests).
    max_bars: Annotated[int, Field(gt=0)] | None = Field(
        default=None,
        description="replay only the first N bars; unset: every bar. `mode: exchange`: the "
        "bars after the warmup a run can take (unset: 10080)",
    )
    # A bar whose time is more than this many (data) seconds behind the feed is stale.
    stale_after: PosFloat | None = Field(
        default=None,
        description="seconds of data time: a bar further behind the feed is dropped as "
        "stale; unset: never",
    )
    # `auto`: simulated time in replay, wall-clock time otherwise.
    clock: Literal["auto", "simulated", "wall"] = Field(
        default="auto",
        description="the containers' clock: `auto` (simulated in replay, wall otherwise), "
        "`simulated` or `wall`",
    )
    exchange: ExchangeConfig | None = Field(
        default=None,
        description="`mode: exchange`: the exchange whose public candles are the feed (`id`, "
        "`market`, `sandbox`, `urls`, `symbols`: isoloop symbol -> ccxt symbol; the primary is "
        "`symbol`, else the first by name); public data, no keys",
    )
    timeframe: Annotated[str, Field(pattern=r"^[1-9][0-9]*[mhdw]$")] = Field(
        default="1m",
        description="`mode: exchange`: the candles' timeframe (`1m`, `15m`, `1h`, `1d`)",
    )
    warmup: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=100,
        description="`mode: exchange`: closed candles read at start (history for the "
        "strategies' indicators, never traded on)",
    )
    poll_interval: PosFloat = Field(
        default=5.0, description="`mode: exchange`: seconds between polls for new closed candles"
    )
    retries: Annotated[int, Field(ge=0, le=20)] = Field(
        default=4,
        description="`mode: exchange`: retries of a failed request (backoff 0.5 s doubling, "
        "at most `poll_interval`); at start, still failing is an error",
    )

    @model_validator(mode="after")
    def _mode_settings(self) -> FeedConfig:
        if self.mode == "replay" and not self.source:
            raise ValueError("feed.source is required in replay mode (e.g. csv:data.csv)")
        if self.mode == "exchange" and self.exchange is None:
            raise ValueError(
                "feed.exchange is required with feed.mode: exchange "
                "(e.g. {id: binance, market: spot, symbols: {BTCUSD: BTC/USDT}})"
            )
        return self

    @model_serializer(mode="wrap")
    def _without_new_defaults(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Keys added with `mode: exchange` stay out of dumps at their defaults: a replay
        # config keeps the session record (and anything hashed from it) it had before.
        data: dict[str, Any] = handler(self)
        for key, default in (
            ("exchange", None),
            ("timeframe", "1m"),
            ("warmup", 100),
            ("poll_interval", 5.0),
            ("retries", 4),
        ):
            if data.get(key) == default:
                data.pop(key, None)
        return data


class RestartPolicy(_Model):
    """How the supervisor restarts a container that failed while running."""

    max_restarts: Annotated[int, Field(ge=0)] = Field(
        default=3, description="restarts per container; then it stays `failed`"
    )
    backoff: NonNegFloat = Field(
        default=1.0, description="seconds before a restart: `backoff · 2^restarts`"
    )
    max_backoff: PosFloat = Field(default=60.0, description="the longest wait before a restart")


class ShutdownConfig(_Model):
    """Seconds: in-flight work to finish, each module's stop, each module's start."""

    drain_timeout: PosFloat = Field(
        default=5.0, description="seconds the bar in flight may take to finish at shutdown"
    )
    module_timeout: PosFloat = Field(
        default=5.0, description="seconds each module's stop may take before it is `forced`"
    )
    init_timeout: PosFloat = Field(
        default=30.0, description="seconds each module's build and each `start()` may take"
    )


class ApiConfig(_Model):
    """The control API: HTTP on 127.0.0.1, every request with a bearer token."""

    enabled: bool = Field(default=True, description="serve the control API")
    port: Annotated[int, Field(ge=0, le=65535)] = Field(
        default=8765,
        description="the port on 127.0.0.1 (0: any free port, written to `STATE_DIR/api.json`)",
    )
    token_env: str | None = Field(
        default="ISOLOOP_LIVE_TOKEN",
        description="the environment variable holding the API token (16+ characters)",
    )
    token_file: str | None = Field(
        default=None,
        description="a file holding the API token (relative to the config file); "
        "read instead of `token_env`",
    )


class LiveStrategyConfig(_Model):
    """One strategy: its own container, sub-account, venue, risk limits and kill switch."""

    name: Name = Field(
        description="the strategy's unique name, also its sub-account's (letters, digits, _ -)"
    )
    strategy: StrategyConfig = Field(
        description="the strategy class and its parameters (as in a backtest)"
    )
    venue: VenueConfig = Field(
        default=VenueConfig(name="paper", cash=100_000.0),
        description="the venue model (as in a backtest; default: `paper`, cash 100,000)",
    )
    risk: RiskConfig = Field(
        default=RiskConfig(), description="pre-trade checks and kill switch (as in a backtest)"
    )
    execution: ExecutionConfig = Field(
        default=ExecutionConfig(), description="the tight loop's retry budget (as in a backtest)"
    )
    # Credential keys the venue needs, read from ISOLOOP_<ENVIRONMENT>__<VENUE>__<KEY>.
    credentials: list[CredKey] = Field(
        default_factory=list,
        description="credential keys the venue needs, read from "
        "`ISOLOOP_<ENVIRONMENT>__<VENUE>__<KEY>`",
    )
    # Blueprint name or path; default: the environment's (`paper` or `live`).
    container: str | None = Field(
        default=None,
        description="blueprint name or path (default: the environment's, `paper` or `live`)",
    )
    seed: Annotated[int, Field(ge=0)] = Field(
        default=0, description="the strategy's seed (as in a backtest)"
    )


class LiveConfig(_Model):
    """Paper or live strategies side by side, one container each, on one shared feed."""

    kind: Literal["live"] = Field(
        default="live", description="`live`: required in a file run by `isoloop live`"
    )
    name: str | None = Field(default=None, description="a name for the manager, for logs")
    environment: Literal["paper", "live"] = Field(
        default="paper",
        description="picks the default blueprint and the credential prefix "
        "`ISOLOOP_<ENVIRONMENT>__`",
    )
    state_dir: str = Field(
        default="state",
        description="folder of the SQLite store, logs and audit trail (relative to the "
        "config file)",
    )
    tick_interval: PosFloat = Field(default=1.0, description="seconds between a container's ticks")
    retry_backoff: PosFloat = Field(
        default=0.5,
        description="seconds before the first retry of a recoverable error (doubles each retry)",
    )
    max_tick_retries: Annotated[int, Field(ge=0)] = Field(
        default=5, description="retries of a recoverable error before it is fatal"
    )
    hook_timeout: PosFloat = Field(
        default=2.0, description="seconds a hook call may run before it is reported"
    )
    feed: FeedConfig = Field(description="the shared market data feed")
    restart: RestartPolicy = Field(
        default=RestartPolicy(), description="how failed containers are restarted"
    )
    shutdown: ShutdownConfig = Field(
        default=ShutdownConfig(), description="per-module timeouts of start and stop"
    )
    api: ApiConfig = Field(default=ApiConfig(), description="the control API")
    strategies: list[LiveStrategyConfig] = Field(
        min_length=1, description="the strategies, each in its own container; unique names"
    )

    @model_validator(mode="after")
    def _unique_names(self) -> LiveConfig:
        names = [s.name for s in self.strategies]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"strategy names must be unique; repeated: {dupes}")
        return self

    def strategy(self, name: str) -> LiveStrategyConfig:
        for s in self.strategies:
            if s.name == name:
                return s
        raise ConfigError(
            f"no strategy named {name!r} (configured: {', '.join(s.name for s in self.strategies)})"
        )

    def blueprint_for(self, name: str) -> str:
        return self.strategy(name).container or self.environment

    def run_config(self, name: str) -> RunConfig:
        """The container's run config: the same models a backtest of this strategy reads."""
        s = self.strategy(name)
        return RunConfig(
            name=s.name,
            strategy=s.strategy,
            data=DataConfig(source=self.feed_source, symbol=self.feed.symbol),
            venue=s.venue,
            risk=s.risk,
            execution=s.execution,
            seed=s.seed,
            container=self.blueprint_for(name),
        )

    @property
    def feed_source(self) -> str:
        """The feed's data source; `exchange:<id>` for an exchange's candles."""
        f = self.feed
        if f.source:
            return f.source
        return f"exchange:{f.exchange.id if f.exchange is not None else ''}"

    @property
    def simulated_clock(self) -> bool:
        return self.feed.clock == "simulated" or (
            self.feed.clock == "auto" and self.feed.mode == "replay"
        )


def _resolve_paths(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    out = dict(raw)
    state = out.get("state_dir", "state")
    if isinstance(state, str) and not Path(state).is_absolute():
        out["state_dir"] = str((base / state).resolve())
    feed = out.get("feed")
    if isinstance(feed, Mapping):
        feed = dict(feed)
        src = feed.get("source")
        for scheme in ("csv:", "parquet:"):
            if isinstance(src, str) and src.startswith(scheme):
                p = Path(src.removeprefix(scheme))
                if not p.is_absolute():
                    feed["source"] = f"{scheme}{(base / p).resolve()}"
        out["feed"] = feed
    api = out.get("api")
    if isinstance(api, Mapping) and isinstance(api.get("token_file"), str):
        api = dict(api)
        tf = Path(api["token_file"])
        if not tf.is_absolute():
            api["token_file"] = str((base / tf).resolve())
        out["api"] = api
    return out


def load_live_config(config: str | Path | Mapping[str, Any] | LiveConfig) -> LiveConfig:
    """Validate a live config; relative paths are resolved against the file's folder."""
    if isinstance(config, LiveConfig):
        return config
    if isinstance(config, Mapping):
        return validate_model(LiveConfig, _resolve_paths(dict(config), Path.cwd()), "config")
    path = Path(config)
    raw = read_yaml(path)
    if raw.get("kind") != "live":
        raise ConfigError(
            f"{path}: kind: live is required for `isoloop live` (got {raw.get('kind')!r})"
        )
    return validate_model(LiveConfig, _resolve_paths(raw, path.resolve().parent), str(path))
