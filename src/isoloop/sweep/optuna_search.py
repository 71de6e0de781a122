"""Optuna search driven in fixed batches of asks, told back in trial-number order.

The driver asks `batch_size` trials, runs them on any executor, and tells the
results in trial-number order, so the study (and every later suggestion) is the
same whatever order the trials finished in and whatever the worker count.
Optuna itself is imported only when a study is built (it is an optional extra,
and slow to import), never by `import isoloop.sweep`.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from isoloop.errors import ConfigError
from isoloop.sweep.constraint import Constraint
from isoloop.sweep.search import Params
from isoloop.sweep.space import SearchSpace

__all__ = ["Direction", "OptunaSearch", "Sampler", "optuna_distributions"]

Sampler = Literal["tpe", "random", "cmaes", "nsga2"]
Direction = Literal["maximize", "minimize"]


def _trial_state() -> Any:
    """`optuna.trial.TrialState` (optuna is already imported once a study exists)."""
    from optuna.trial import TrialState

    return TrialState


def optuna_distributions(space: SearchSpace) -> dict[str, Any]:
    """Each dimension's Optuna distribution: a stepped range is numeric, the rest categorical.

    Shared with `optuna_storage`, so a persisted study's trials carry the very
    distributions the in-memory study asked them with.
    """
    from optuna import distributions as dists

    found: dict[str, Any] = {}
    for dim in space.dimensions:
        if dim.kind == "range" and dim.step is not None and len(dim) > 1:
            if dim.is_int_range:
                found[dim.key] = dists.IntDistribution(
                    int(dim.values[0]), int(dim.values[-1]), step=int(dim.step)
                )
            else:
                found[dim.key] = dists.FloatDistribution(
                    float(dim.values[0]), float(dim.values[-1]), step=float(dim.step)
                )
        else:
            found[dim.key] = dists.CategoricalDistribution(dim.values)
    return found


@dataclass(slots=True)
class OptunaSearch:
    """An in-memory Optuna study driven in fixed batches by the sweep driver.

    The study is rebuilt from the sweep store on resume: the same asks come back
    (seeded sampler, same tell order) and stored trials are told, not rerun.
    Trial ids are Optuna trial numbers; points violating the constraint are told
    PRUNED without running and are not stored (so ids may have gaps). `run_sweep`
    mirrors the stored trials into a study Optuna's tools open (`optuna_storage`).
    """

    space: SearchSpace
    n_trials: int
    seed: int
    direction: Direction = "maximize"
    sampler: Sampler = "tpe"
    # Several directions make a multi-objective study (told one value per objective).
    directions: tuple[Direction, ...] | None = None
    batch_size: int = 8
    constraint: Constraint | None = None
    max_asks_per_trial: int = 100
    _study: Any = field(default=None, init=False, repr=False)
    _distributions: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _pending: dict[int, Any] = field(default_factory=dict, init=False, repr=False)
    _asked_runnable: int = field(default=0, init=False, repr=False)
    _asks: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.n_trials < 1:
            raise ConfigError(f"search.trials must be >= 1, got {self.n_trials}")
        if self.batch_size < 1:
            raise ConfigError(f"search.batch_size must be >= 1, got {self.batch_size}")
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        samplers: dict[str, Any] = {
            "tpe": lambda: optuna.samplers.TPESampler(seed=self.seed),
            "random": lambda: optuna.samplers.RandomSampler(seed=self.seed),
            "cmaes": lambda: optuna.samplers.CmaEsSampler(
                seed=self.seed, warn_independent_sampling=False
            ),
            "nsga2": lambda: optuna.samplers.NSGAIISampler(seed=self.seed),
        }
        directions = list(self.directions or (self.direction,))
        if len(directions) > 1 and self.sampler == "cmaes":
            raise ConfigError(
                "search.sampler 'cmaes' optimizes one objective; with several objectives "
                "use sampler: tpe, nsga2 or random"
            )
        if self.sampler == "cmaes" and importlib.util.find_spec("cmaes") is None:
            raise ConfigError(
                "search.sampler 'cmaes' needs the 'cmaes' package (pip install cmaes); "
                "or use sampler: tpe or random"
            )
        if self.sampler not in samplers:
            raise ConfigError(
                f"search.sampler must be one of tpe, random, cmaes, nsga2; got {self.sampler!r}"
            )
        sampler = samplers[self.sampler]()
        if len(directions) > 1:
            self._study = optuna.create_study(directions=directions, sampler=sampler)
        else:
            self._study = optuna.create_study(direction=directions[0], sampler=sampler)
        self._distributions = optuna_distributions(self.space)

    def total(self) -> int:
        return self.n_trials

    @property
    def finished(self) -> bool:
        return self._asked_runnable >= self.n_trials and not self._pending

    def _params(self, trial: Any) -> Params:
        params: Params = {}
        for dim in self.space.dimensions:
            value = trial.params[dim.key]
            params[dim.key] = dim.snap(value) if dim.kind == "range" and len(dim) > 1 else value
        return params

    def ask_batch(self) -> list[tuple[int, Params]]:
        """Up to `batch_size` runnable trials; constraint violations are told PRUNED here."""
        batch: list[tuple[int, Params]] = []
        want = min(self.batch_size, self.n_trials - self._asked_runnable)
        limit = self.max_asks_per_trial * self.n_trials
        while len(batch) < want:
            if self._asks >= limit:
                raise ConfigError(
                    f"optuna search found only {self._asked_runnable} runnable trials in "
                    f"{self._asks} asks (the rest violate the constraint); relax the "
                    "constraint or lower search.trials"
                )
            self._asks += 1
            trial = self._study.ask(self._distributions)
            params = self._params(trial)
            if self.constraint is not None and not self.constraint(params):
                self._study.tell(trial, state=_trial_state().PRUNED)
                continue
            self._pending[trial.number] = trial
            self._asked_runnable += 1
            batch.append((trial.number, params))
        return batch

    def tell_batch(self, values: Mapping[int, float | Sequence[float] | None]) -> None:
        """Tell every pending trial in trial-number order (None or non-finite → FAIL).

        A multi-objective study is told one value per objective.
        """
        missing = sorted(set(self._pending) - set(values))
        if missing:
            raise ValueError(f"no result for pending optuna trials {missing}")
        for number in sorted(self._pending):
            trial = self._pending.pop(number)
            value = values[number]
            told = [value] if isinstance(value, float | int) else value
            if told is None or not all(math.isfinite(v) for v in told):
                self._study.tell(trial, state=_trial_state().FAIL)
            else:
                self._study.tell(trial, told[0] if len(told) == 1 else list(told))

    def pending_ids(self) -> Sequence[int]:
        return sorted(self._pending)
