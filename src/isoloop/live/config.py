"""The live/paper config: strategies, a shared feed, state, API and restart policy.

Each strategy becomes a `RunConfig` for its container, so the same engine
components (execution, risk, positions, strategy) read the same models they
read in a backtest.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from isoloop.config.loading import read_yaml, validate_model
from isoloop.config.models import (
    DataConfig,
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
    """The shared market data feed. `replay` plays a data source at `speed` × real time."""

    mode: Literal["replay"] = "replay"
    source: str = Field(min_length=1)
    symbol: str | None = None
    speed: PosFloat = 1.0
    # Replay only the first N bars (quick demos and tests).
    max_bars: Annotated[int, Field(gt=0)] | None = None
    # A bar whose time is more than this many (data) seconds behind the feed is stale.
    stale_after: PosFloat | None = None
    # `auto`: simulated time in replay, wall-clock time otherwise.
    clock: Literal["auto", "simulated", "wall"] = "auto"


class RestartPolicy(_Model):
    max_restarts: Annotated[int, Field(ge=0)] = 3
    backoff: NonNegFloat = 1.0
    max_backoff: PosFloat = 60.0


class ShutdownConfig(_Model):
    """Seconds: in-flight work to finish, each module's stop, each module's start."""

    drain_timeout: PosFloat = 5.0
    module_timeout: PosFloat = 5.0
    init_timeout: PosFloat = 30.0


class ApiConfig(_Model):
    enabled: bool = True
    port: Annotated[int, Field(ge=0, le=65535)] = 8765
    token_env: str | None = "ISOLOOP_LIVE_TOKEN"
    token_file: str | None = None


class LiveStrategyConfig(_Model):
    name: Name
    strategy: StrategyConfig
    venue: VenueConfig = VenueConfig(name="paper", cash=100_000.0)
    risk: RiskConfig = RiskConfig()
    execution: ExecutionConfig = ExecutionConfig()
    # Credential keys the venue needs, read from ISOLOOP_<ENVIRONMENT>__<VENUE>__<KEY>.
    credentials: list[CredKey] = Field(default_factory=list)
    # Blueprint name or path; default: the environment's (`paper` or `live`).
    container: str | None = None
    seed: Annotated[int, Field(ge=0)] = 0


class LiveConfig(_Model):
    kind: Literal["live"] = "live"
    name: str | None = None
    environment: Literal["paper", "live"] = "paper"
    state_dir: str = "state"
    tick_interval: PosFloat = 1.0
    retry_backoff: PosFloat = 0.5
    max_tick_retries: Annotated[int, Field(ge=0)] = 5
    hook_timeout: PosFloat = 2.0
    feed: FeedConfig
    restart: RestartPolicy = RestartPolicy()
    shutdown: ShutdownConfig = ShutdownConfig()
    api: ApiConfig = ApiConfig()
    strategies: list[LiveStrategyConfig] = Field(min_length=1)

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
            data=DataConfig(source=self.feed.source, symbol=self.feed.symbol),
            venue=s.venue,
            risk=s.risk,
            execution=s.execution,
            seed=s.seed,
            container=self.blueprint_for(name),
        )

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
