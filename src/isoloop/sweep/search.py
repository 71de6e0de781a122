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
    """Every grid point that satisfies the constraint; ids 0..N-1 over the filtered points.

    With `max_tries`, only that many distinct points (a float in (0, 1]: that fraction
    of the filtered grid, at least one) drawn without replacement from
    `SeedSequence(seed)`; they keep their grid ids, so a sampled trial is the same
    trial as in the full grid, on every executor and on resume.
    """

    space: SearchSpace
    constraint: Constraint | None = None
    max_tries: int | float | None = None
    seed: int = 0
    _grid_total: int | None = field(default=None, init=False, repr=False)
    _chosen: frozenset[int] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        check_grid_size(self.space)

    def _all(self) -> Iterator[tuple[int, Params]]:
        trial_id = 0
        for params in self.space.points():
            if self.constraint is None or self.constraint(params):
                yield trial_id, params
                trial_id += 1

    def grid_total(self) -> int:
        """Points of the grid that satisfy the constraint (before `max_tries`)."""
        if self._grid_total is None:
            # One lazy pass over the grid (constraint evaluations only, nothing kept).
            self._grid_total = sum(1 for _ in self._all())
        return self._grid_total

    def sample_size(self) -> int:
        grid = self.grid_total()
        tries = self.max_tries
        if tries is None:
            return grid
        # A float is a fraction of the grid (whole trials, at least one): backtesting.py's rule.
        count = max(1, int(tries * grid)) if isinstance(tries, float) else int(tries)
        return min(count, grid)

    def chosen(self) -> frozenset[int] | None:
        """The sampled grid ids (None: every point)."""
        if self.max_tries is None:
            return None
        if self._chosen is None:
            grid, count = self.grid_total(), self.sample_size()
            rng = np.random.default_rng(np.random.SeedSequence(self.seed))
            picked = rng.choice(grid, size=count, replace=False) if count < grid else range(grid)
            self._chosen = frozenset(int(i) for i in picked)
        return self._chosen

    def trials(self) -> Iterator[tuple[int, Params]]:
        chosen = self.chosen()
        for trial_id, params in self._all():
            if chosen is None or trial_id in chosen:
                yield trial_id, params

    def total(self) -> int:
        return self.sample_size()


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
