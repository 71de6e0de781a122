"""A sweep's search space: dotted keys mapped to a finite, ordered set of values.

Written as `{key: [v1, v2, ...]}`, `{key: {range: [start, stop, step]}}` (stop
exclusive) or `{key: {choice: [...]}}`. Keys keep the order they were written
in; grid order is "last key fastest", so the `i`-th grid point can be computed
without building the grid (`SearchSpace.point(i)`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from isoloop.config.limits import check_limit, exceeded
from isoloop.errors import ConfigError

__all__ = ["Dimension", "SearchSpace"]

Scalar = bool | int | float | str
DimensionKind = Literal["list", "range", "choice"]


@dataclass(frozen=True, slots=True)
class Dimension:
    """One key of the space and its values, in order."""

    key: str
    values: tuple[Scalar, ...]
    kind: DimensionKind
    step: int | float | None = None  # set for ranges (used by Optuna's numeric samplers)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def is_int_range(self) -> bool:
        return self.kind == "range" and all(type(v) is int for v in self.values)

    def snap(self, value: float) -> Scalar:
        """The grid value nearest `value` (Optuna's float steps are not exact)."""
        assert self.step is not None and self.kind == "range"
        start = float(self.values[0])
        index = round((float(value) - start) / float(self.step))
        return self.values[min(max(index, 0), len(self.values) - 1)]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _range_values(key: str, spec: Sequence[Any]) -> tuple[tuple[Scalar, ...], int | float]:
    where = f"space.{key}.range"
    if len(spec) != 3 or not all(_is_number(v) for v in spec):
        raise ConfigError(
            f"{where} must be [start, stop, step] numbers (stop exclusive), got {list(spec)!r}"
        )
    start, stop, step = spec
    if not step > 0:
        raise ConfigError(f"{where}: step must be > 0, got {step!r}")
    if not all(math.isfinite(float(v)) for v in spec):
        raise ConfigError(f"{where}: values must be finite, got {list(spec)!r}")
    # The count is computed (never the values) and capped before anything is built:
    # `range: [1, 1000000000000, 1]` is one error line, not a MemoryError.
    if all(type(v) is int for v in spec):
        ints = range(start, stop, step)
        if not ints:
            raise ConfigError(f"{where}: [{start}, {stop}, {step}] is empty (stop is exclusive)")
        check_limit("grid_points", len(ints), where)
        return tuple(ints), step
    # Multiply rather than accumulate so 0.1-steps do not drift; the epsilon keeps an
    # exact `stop` out (stop is exclusive) despite float rounding.
    span = (stop - start) / step - 1e-9
    if span <= 0:
        raise ConfigError(f"{where}: [{start}, {stop}, {step}] is empty (stop is exclusive)")
    if not math.isfinite(span):  # e.g. [0, 1e308, 1e-308]: too many to even count
        raise exceeded("grid_points", where, None)
    count = math.ceil(span)
    check_limit("grid_points", count, where)
    return tuple(round(start + i * step, 12) for i in range(count)), step


def _dimension(key: str, spec: Any) -> Dimension:
    if not isinstance(key, str) or not key or any(not part for part in key.split(".")):
        raise ConfigError(
            f"space key {key!r} must be a dotted name like 'fast' or 'venue.commission'"
        )
    kind: DimensionKind = "list"
    step: int | float | None = None
    if isinstance(spec, Mapping):
        if set(spec) == {"range"}:
            values, step = _range_values(key, spec["range"])
            return Dimension(key, values, "range", step)
        if set(spec) == {"choice"}:
            spec, kind = spec["choice"], "choice"
        else:
            raise ConfigError(
                f"space.{key} must be a list, {{range: [start, stop, step]}} or "
                f"{{choice: [...]}}, got keys {sorted(spec)!r}"
            )
    if isinstance(spec, str) or not isinstance(spec, Sequence):
        raise ConfigError(f"space.{key} must be a list of values, got {spec!r}")
    values = tuple(spec)
    if not values:
        raise ConfigError(f"space.{key} is empty; give at least one value")
    for value in values:
        if not isinstance(value, bool | int | float | str):
            raise ConfigError(f"space.{key}: value {value!r} is not a number, bool or string")
    if len(set(map(repr, values))) != len(values):
        raise ConfigError(f"space.{key} lists a value twice: {list(values)!r}")
    return Dimension(key, values, kind, step)


@dataclass(frozen=True, slots=True)
class SearchSpace:
    """An ordered product of dimensions; never materialized as a list of points."""

    dimensions: tuple[Dimension, ...]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> SearchSpace:
        if not mapping:
            raise ConfigError("space is empty; give at least one key, e.g. `fast: [5, 10]`")
        return cls(tuple(_dimension(key, spec) for key, spec in mapping.items()))

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(d.key for d in self.dimensions)

    @property
    def shape(self) -> tuple[int, ...]:
        """The number of values of each dimension, in key order."""
        return tuple(len(d) for d in self.dimensions)

    @property
    def size(self) -> int:
        """Number of grid points before any constraint."""
        return math.prod(len(d) for d in self.dimensions)

    def point(self, index: int) -> dict[str, Scalar]:
        """The `index`-th grid point, last key varying fastest."""
        if not 0 <= index < self.size:
            raise IndexError(index)
        params: dict[str, Scalar] = {}
        for dim in reversed(self.dimensions):
            index, i = divmod(index, len(dim))
            params[dim.key] = dim.values[i]
        return {key: params[key] for key in self.keys}

    def from_indices(self, indices: Sequence[int]) -> dict[str, Scalar]:
        return {d.key: d.values[i] for d, i in zip(self.dimensions, indices, strict=True)}

    def points(self) -> Iterator[dict[str, Scalar]]:
        """All grid points in order, lazily."""
        return (self.point(i) for i in range(self.size))
