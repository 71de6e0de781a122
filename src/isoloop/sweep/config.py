"""The sweep config (`kind: sweep`), validated up front with pydantic v2.

Strict, frozen, unknown keys rejected. The space and the constraint are
compiled during validation, so a typo in either is reported before any
worker starts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from isoloop.config.limits import check_limit
from isoloop.errors import ConfigError, LimitExceeded
from isoloop.sweep.constraint import Constraint, compile_constraint
from isoloop.sweep.optuna_search import OptunaSearch
from isoloop.sweep.search import GridSearch, RandomSearch, check_grid_size
from isoloop.sweep.space import SearchSpace
from isoloop.sweep.spec import STATS_KEYS

__all__ = [
    "ChoiceSpec",
    "ExecutorSettings",
    "ObjectiveSettings",
    "RangeSpec",
    "SearchSettings",
    "SweepConfig",
    "WalkForwardSettings",
    "build_search",
]

Scalar = bool | int | float | str
PositiveInt = Annotated[int, Field(ge=1)]


class _Model(BaseModel):
    # inf/NaN are never a meaningful space value, timeout or memory limit.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class RangeSpec(_Model):
    """`{range: [start, stop, step]}`: stop exclusive, step > 0."""

    range: list[int | float] = Field(min_length=3, max_length=3)


class ChoiceSpec(_Model):
    """`{choice: [...]}`: an explicit categorical dimension."""

    choice: list[Scalar] = Field(min_length=1)


class ObjectiveSettings(_Model):
    metric: str
    direction: Literal["maximize", "minimize"] = "maximize"

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in STATS_KEYS:
            raise ValueError(f"unknown metric {value!r}; use one of {', '.join(STATS_KEYS)}")
        return value


class SearchSettings(_Model):
    method: Literal["grid", "random", "optuna"] = "grid"
    trials: PositiveInt | None = None
    seed: int = 0
    sampler: Literal["tpe", "random", "cmaes"] = "tpe"
    batch_size: PositiveInt = 8  # optuna: asks per batch, independent of the worker count

    @model_validator(mode="after")
    def _trials_needed(self) -> SearchSettings:
        if self.method != "grid" and self.trials is None:
            raise ValueError(f"search.method {self.method!r} needs search.trials (e.g. 50)")
        if self.method == "grid" and self.trials is not None:
            raise ValueError("search.trials applies to random/optuna only; remove it for grid")
        return self


class ExecutorSettings(_Model):
    kind: Literal["serial", "thread", "process", "dask", "ray"] = "process"
    workers: PositiveInt = 2
    address: str | None = None  # dask scheduler / ray cluster; None starts one locally
    trial_timeout: Annotated[float, Field(gt=0)] | None = None  # seconds
    retries: Annotated[int, Field(ge=0)] = 2  # resubmissions after a worker death
    memory_limit_mb: Annotated[float, Field(gt=0)] | None = None  # process: recycle above
    recycle_after: PositiveInt | None = None  # process: new worker after N trials
    trial_memory_mb: Annotated[float, Field(gt=0)] | None = None  # per trial, while it runs
    max_in_flight: PositiveInt | None = None  # default 2 × workers

    @model_validator(mode="after")
    def _address_only_for_clusters(self) -> ExecutorSettings:
        if self.address is not None and self.kind not in ("dask", "ray"):
            raise ValueError(f"executor.address applies to dask/ray, not {self.kind!r}")
        return self


class WalkForwardSettings(_Model):
    mode: Literal["rolling", "anchored"] = "rolling"
    train_bars: PositiveInt
    test_bars: PositiveInt
    step_bars: PositiveInt | None = None  # default: test_bars


class SweepConfig(_Model):
    """A parameter sweep over a base run config."""

    kind: Literal["sweep"]
    base: str | dict[str, Any]  # a path relative to the sweep file, or an inline run config
    space: dict[str, list[Scalar] | RangeSpec | ChoiceSpec]
    constraint: str | None = None
    objective: ObjectiveSettings
    search: SearchSettings = Field(default_factory=SearchSettings)
    executor: ExecutorSettings = Field(default_factory=ExecutorSettings)
    store: str | None = None
    walk_forward: WalkForwardSettings | None = None

    def space_mapping(self) -> dict[str, Any]:
        return {
            key: spec.model_dump() if isinstance(spec, BaseModel) else list(spec)
            for key, spec in self.space.items()
        }

    def search_space(self) -> SearchSpace:
        return SearchSpace.from_mapping(self.space_mapping())

    def compiled_constraint(self) -> Constraint | None:
        if self.constraint is None:
            return None
        return compile_constraint(self.constraint, self.space)

    @model_validator(mode="after")
    def _compile(self) -> SweepConfig:
        try:
            space = self.search_space()
            self.compiled_constraint()
        except LimitExceeded:
            raise  # not a ValueError: reaches the user as is, with its limit named
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        if self.search.method == "grid":
            check_grid_size(space)
        elif self.search.trials is not None:
            check_limit("grid_points", self.search.trials, "search.trials")
        if (
            self.search.trials is not None
            and self.search.method == "random"
            and self.search.trials > space.size
        ):
            raise ValueError(
                f"search.trials={self.search.trials} exceeds the {space.size} points of the "
                "space; lower it or use method: grid"
            )
        return self


def build_search(config: SweepConfig) -> GridSearch | RandomSearch | OptunaSearch:
    """The search object a `SweepConfig` describes."""
    space = config.search_space()
    constraint = config.compiled_constraint()
    settings = config.search
    if settings.method == "grid":
        return GridSearch(space, constraint)
    assert settings.trials is not None  # checked by SearchSettings
    if settings.method == "random":
        return RandomSearch(space, settings.trials, settings.seed, constraint)
    return OptunaSearch(
        space,
        settings.trials,
        settings.seed,
        direction=config.objective.direction,
        sampler=settings.sampler,
        batch_size=settings.batch_size,
        constraint=constraint,
    )
