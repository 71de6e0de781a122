"""Grid and random searches over a `SearchSpace` (Optuna lives in `optuna_search`).

Grid and random searches yield `(trial_id, params)` lazily, so a 100,000-point
grid is never held in memory. The Optuna search is driven in fixed batches of
`batch_size` asks whose results are told back in trial-number order: the
study (and so every later suggestion) is the same whatever order the trials
finished in and whatever the worker count.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from isoloop.config.limits import check_limit
from isoloop.errors import ConfigError
from isoloop.sweep.constraint import Constraint
from isoloop.sweep.space import SearchSpace

__all__ = ["GridSearch", "Params", "RandomSearch", "check_grid_size"]

Params = dict[str, Any]


def check_grid_size(space: SearchSpace) -> None:
    """Refuse a grid over the cap before one point (or constraint call) is made.

    The size is a product of lengths, so a 10⁶ × 10⁶ grid is refused at once instead
    of `validate` evaluating the constraint at 10¹² points.
    """
    check_limit("grid_points", space.size, f"space ({' × '.join(map(str, space.shape))} grid)")


@dataclass(slots=True)
class GridSearch:
    """Every grid point that satisfies the constraint; ids 0..N-1 over the filtered points."""

    space: SearchSpace
    constraint: Constraint | None = None
    _total: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        check_grid_size(self.space)

    def trials(self) -> Iterator[tuple[int, Params]]:
        trial_id = 0
        for params in self.space.points():
            if self.constraint is None or self.constraint(params):
                yield trial_id, params
                trial_id += 1

    def total(self) -> int:
        if self._total is None:
            # One lazy pass over the grid (constraint evaluations only, nothing kept).
            self._total = sum(1 for _ in self.trials())
        return self._total


@dataclass(slots=True)
class RandomSearch:
    """`n_trials` distinct points meeting the constraint, drawn from SeedSequence(seed)."""

    space: SearchSpace
    n_trials: int
    seed: int
    constraint: Constraint | None = None
    max_draws_per_trial: int = 1000

    def __post_init__(self) -> None:
        if self.n_trials < 1:
            raise ConfigError(f"search.trials must be >= 1, got {self.n_trials}")
        check_limit("grid_points", self.n_trials, "search.trials")
        if self.n_trials > self.space.size:
            raise ConfigError(
                f"search.trials={self.n_trials} but the space has only {self.space.size} "
                "points; lower search.trials or use method: grid"
            )

    def trials(self) -> Iterator[tuple[int, Params]]:
        rng = np.random.default_rng(np.random.SeedSequence(self.seed))
        seen: set[tuple[int, ...]] = set()
        sizes = [len(d) for d in self.space.dimensions]
        draws = 0
        limit = self.max_draws_per_trial * self.n_trials
        trial_id = 0
        while trial_id < self.n_trials:
            if draws >= limit:
                raise ConfigError(
                    f"random search found only {trial_id} of {self.n_trials} distinct points "
                    f"satisfying the constraint in {draws} draws; lower search.trials or "
                    "relax the constraint"
                )
            draws += 1
            indices = tuple(int(rng.integers(0, n)) for n in sizes)
            if indices in seen:
                continue
            seen.add(indices)
            params = self.space.from_indices(indices)
            if self.constraint is not None and not self.constraint(params):
                continue
            yield trial_id, params
            trial_id += 1

    def total(self) -> int:
        return self.n_trials
