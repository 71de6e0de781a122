"""The sweep config (`kind: sweep`), validated up front with pydantic v2.

Strict, frozen, unknown keys rejected. The space and the constraint are
compiled during validation, so a typo in either is reported before any
worker starts.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from isoloop.config.limits import check_limit
from isoloop.errors import ConfigError, LimitExceeded
from isoloop.sweep.constraint import Constraint, compile_constraint
from isoloop.sweep.objective import Objective
from isoloop.sweep.optuna_search import OptunaSearch
from isoloop.sweep.search import GridSearch, RandomSearch, check_grid_size
from isoloop.sweep.space import SearchSpace
from isoloop.sweep.spec import STATS_KEYS

__all__ = [
    "DATA_SOURCE_KEY",
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
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
#: the space key that sweeps across data sets (each value a data source)
DATA_SOURCE_KEY = "data.source"


class _Model(BaseModel):
    # inf/NaN are never a meaningful space value, timeout or memory limit.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class RangeSpec(_Model):
    """`{range: [start, stop, step]}`: stop exclusive, step > 0."""

    range: list[int | float] = Field(
        min_length=3,
        max_length=3,
        description="[start, stop, step]: start, start + step, ... below stop (exclusive)",
    )


class ChoiceSpec(_Model):
    """`{choice: [...]}`: an explicit categorical dimension."""

    choice: list[Scalar] = Field(
        min_length=1, description="the values to try, in order (numbers, strings, booleans)"
    )


class ObjectiveSettings(_Model):
    """One objective: a stats key (`metric`, or `key`) or a function of the stats.

    `function: "module:func"` names an importable function that gets the trial's
    stats mapping and returns a number; its value is stored under `name` (default:
    the function's name), which must not be a stats key.
    """

    metric: str | None = Field(
        default=None,
        validation_alias=AliasChoices("metric", "key"),
        description="a stats key to optimize, e.g. `sharpe_ratio` (`key:` is the same); "
        "give this or `function`",
    )
    function: str | None = Field(
        default=None,
        description="`module:function` called with the trial's stats mapping, returning a "
        "number; give this or `metric`",
    )
    name: str | None = Field(
        default=None,
        description="the column a function objective's value is stored under "
        "(default: the function's name; never a stats key)",
    )
    direction: Literal["maximize", "minimize"] = Field(
        default="maximize", description="whether higher or lower values are better"
    )

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str | None) -> str | None:
        if value is not None and value not in STATS_KEYS:
            raise ValueError(f"unknown metric {value!r}; use one of {', '.join(STATS_KEYS)}")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> ObjectiveSettings:
        if (self.metric is None) == (self.function is None):
            raise ValueError(
                "give exactly one of metric (a stats key, e.g. sharpe_ratio) or "
                "function ('module:func', a function of the stats)"
            )
        if self.function is not None:
            module, sep, attr = self.function.partition(":")
            if not sep or not module or not _NAME.fullmatch(attr):
                raise ValueError(
                    f"function {self.function!r} must be an importable 'package.module:function'"
                )
        if self.name is not None:
            if self.function is None:
                raise ValueError("name applies to a function objective (a metric is its own name)")
            if not _NAME.fullmatch(self.name) or self.name in STATS_KEYS:
                raise ValueError(
                    f"name {self.name!r} must be a plain name (letters, digits, _) that is "
                    "not a stats key"
                )
        elif self.function is not None and self.function.partition(":")[2] in STATS_KEYS:
            raise ValueError(
                f"function {self.function!r} is named like a stats key; give it another `name:`"
            )
        return self

    def objective(self) -> Objective:
        if self.function is None:
            assert self.metric is not None
            return Objective(self.metric, self.direction)
        name = self.name or self.function.partition(":")[2]
        return Objective(name, self.direction, self.function)

    def definition(self) -> dict[str, Any]:
        """What the sweep key hashes (a metric objective hashes as it always did)."""
        if self.function is None:
            return {"metric": self.metric, "direction": self.direction}
        return {"function": self.function, "name": self.name, "direction": self.direction}


class SearchSettings(_Model):
    """How trials are chosen from the space: every grid point, a random sample or Optuna."""

    method: Literal["grid", "random", "optuna"] = Field(
        default="grid",
        description="`grid`: every point (or `max_tries` of them); `random`: `trials` "
        "distinct points; `optuna`: `trials` asked from an Optuna study",
    )
    trials: PositiveInt | None = Field(
        default=None, description="how many trials random and optuna run (required there)"
    )
    seed: int = Field(
        default=0,
        description="seeds the random and optuna samplers and the grid sample "
        "(`SeedSequence(seed)`)",
    )
    sampler: Literal["tpe", "random", "cmaes", "nsga2"] = Field(
        default="tpe",
        description="optuna's sampler (`nsga2` for several objectives; `cmaes` is "
        "single-objective)",
    )
    batch_size: PositiveInt = Field(
        default=8,
        description="optuna: trials asked per batch and told in trial order, independent "
        "of the worker count",
    )
    # grid: run only this many distinct grid points (a float in (0, 1]: that fraction of
    # the grid), drawn without replacement from SeedSequence(seed).
    max_tries: PositiveInt | Annotated[float, Field(gt=0, le=1)] | None = Field(
        default=None,
        description="grid only: run this many distinct grid points, or a float in (0, 1] "
        "for that fraction of the grid, drawn from `seed`; unset runs the whole grid",
    )

    @model_validator(mode="after")
    def _trials_needed(self) -> SearchSettings:
        if self.method != "grid" and self.trials is None:
            raise ValueError(f"search.method {self.method!r} needs search.trials (e.g. 50)")
        if self.method == "grid" and self.trials is not None:
            raise ValueError(
                "search.trials applies to random/optuna only; for a sample of the grid "
                "use search.max_tries"
            )
        if self.method != "grid" and self.max_tries is not None:
            raise ValueError(
                f"search.max_tries applies to method grid; {self.method!r} runs search.trials"
            )
        return self

    def definition(self) -> dict[str, Any]:
        """What the sweep key hashes (unset new settings hash as before they existed)."""
        out = self.model_dump()
        if self.max_tries is None:
            del out["max_tries"]
        return out


class ExecutorSettings(_Model):
    """Where trials run: in the driver, in threads, in processes, or on Dask or Ray."""

    kind: Literal["serial", "thread", "process", "dask", "ray"] = Field(
        default="process",
        description="`serial` (the reference), `thread`, `process`, `dask` or `ray` (`--executor`)",
    )
    workers: PositiveInt = Field(
        default=2, description="parallel workers (threads, processes, Dask/Ray workers)"
    )
    address: str | None = Field(
        default=None,
        description="dask/ray only: a Dask scheduler or Ray cluster to join (`--address`); "
        "unset starts one locally",
    )
    trial_timeout: Annotated[float, Field(gt=0)] | None = Field(
        default=None,
        description="seconds a trial may run before it is recorded `timeout`; unset: no limit",
    )
    retries: Annotated[int, Field(ge=0)] = Field(
        default=2,
        description="resubmissions of a trial whose worker died, before it is recorded `crashed`",
    )
    memory_limit_mb: Annotated[float, Field(gt=0)] | None = Field(
        default=None,
        description="process: a worker that grew past this many MB is replaced after its trial",
    )
    recycle_after: PositiveInt | None = Field(
        default=None, description="process: a worker is replaced after this many trials"
    )
    trial_memory_mb: Annotated[float, Field(gt=0)] | None = Field(
        default=None,
        description="process/dask/ray: MB a trial may allocate while it runs; over it the "
        "trial is recorded `memory`",
    )
    max_in_flight: PositiveInt | None = Field(
        default=None,
        description="trials submitted but not finished at once (default 2 × workers: on `process` "
        "one running and one waiting per worker; dask/ray: 2 × workers × 64, so trials "
        "travel up to 64 per task)",
    )

    @model_validator(mode="after")
    def _address_only_for_clusters(self) -> ExecutorSettings:
        if self.address is not None and self.kind not in ("dask", "ray"):
            raise ValueError(f"executor.address applies to dask/ray, not {self.kind!r}")
        return self


class WalkForwardSettings(_Model):
    """Train/test windows: each window's best train parameters run on its test bars."""

    mode: Literal["rolling", "anchored"] = Field(
        default="rolling",
        description="`rolling`: the train window moves; `anchored`: it always starts at bar 0",
    )
    train_bars: PositiveInt = Field(description="bars each window sweeps to pick parameters")
    test_bars: PositiveInt = Field(
        description="bars after the train window that the picked parameters run on"
    )
    step_bars: PositiveInt | None = Field(
        default=None, description="bars between window starts (default: `test_bars`)"
    )


class SweepConfig(_Model):
    """A parameter sweep over a base run config."""

    kind: Literal["sweep"] = Field(description="always `sweep`: marks the file as a sweep config")
    base: str | dict[str, Any] = Field(
        description="the run config every trial starts from: a path relative to the sweep "
        "file, or an inline run config"
    )
    space: dict[str, list[Scalar] | RangeSpec | ChoiceSpec] = Field(
        description="dotted keys into the base (a bare name is `strategy.params.<name>`; "
        "`data.source` sweeps data sets), each a list, `{range: ...}` or `{choice: ...}`"
    )
    constraint: str | None = Field(
        default=None,
        description="a safe expression over the space's names (e.g. `fast < slow`); "
        "points where it is false are skipped",
    )
    objective: ObjectiveSettings | None = Field(
        default=None, description="the one objective; give this or `objectives`"
    )
    objectives: list[ObjectiveSettings] | None = Field(
        default=None,
        min_length=1,
        description="several objectives for a Pareto front (the first ranks `best`); "
        "give this or `objective`",
    )
    search: SearchSettings = Field(
        default_factory=SearchSettings, description="how trials are chosen from the space"
    )
    executor: ExecutorSettings = Field(
        default_factory=ExecutorSettings, description="where and how trials run"
    )
    store: str | None = Field(
        default=None,
        description="the SQLite store (relative to the sweep file) that resumes the sweep "
        "(`--store`); unset: nothing is kept between runs",
    )
    walk_forward: WalkForwardSettings | None = Field(
        default=None, description="train/test windows instead of one sweep over all bars"
    )

    def space_mapping(self) -> dict[str, Any]:
        return {
            key: spec.model_dump() if isinstance(spec, BaseModel) else list(spec)
            for key, spec in self.space.items()
        }

    def search_space(self) -> SearchSpace:
        return SearchSpace.from_mapping(self.space_mapping())

    def objective_list(self) -> tuple[Objective, ...]:
        """The objectives in order (the first one ranks `best`)."""
        settings = self.objectives if self.objectives is not None else [self.objective]
        return tuple(o.objective() for o in settings if o is not None)

    def objective_definition(self) -> dict[str, Any]:
        if self.objectives is None:
            assert self.objective is not None
            return {"objective": self.objective.definition()}
        return {"objectives": [o.definition() for o in self.objectives]}

    @property
    def sweeps_data(self) -> bool:
        """The space varies `data.source`: every trial names its own data set."""
        return DATA_SOURCE_KEY in self.space

    def compiled_constraint(self) -> Constraint | None:
        if self.constraint is None:
            return None
        return compile_constraint(self.constraint, self.space)

    @model_validator(mode="after")
    def _compile(self) -> SweepConfig:
        if (self.objective is None) == (self.objectives is None):
            raise ValueError(
                "give objective: {metric: KEY, direction: maximize} or objectives: [...] "
                "(several, for a Pareto front), not both or neither"
            )
        names = [o.name for o in self.objective_list()]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"objectives name {', '.join(twice)} twice; give each once")
        if self.sweeps_data:
            values = self.space[DATA_SOURCE_KEY]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError(
                    f"space.{DATA_SOURCE_KEY} must be a list of data sources "
                    "(e.g. [sample:GOOG, csv:eurusd.csv])"
                )
            if self.walk_forward is not None:
                raise ValueError(
                    f"walk_forward slices one data set into windows; it cannot sweep "
                    f"space.{DATA_SOURCE_KEY} (run one walk-forward per data set)"
                )
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
        return GridSearch(space, constraint, settings.max_tries, settings.seed)
    assert settings.trials is not None  # checked by SearchSettings
    if settings.method == "random":
        return RandomSearch(space, settings.trials, settings.seed, constraint)
    return OptunaSearch(
        space,
        settings.trials,
        settings.seed,
        directions=tuple(o.direction for o in config.objective_list()),
        sampler=settings.sampler,
        batch_size=settings.batch_size,
        constraint=constraint,
    )
