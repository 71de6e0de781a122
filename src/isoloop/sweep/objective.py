"""A sweep's objectives: stats keys or functions of the stats, and their Pareto front.

An objective is either a stats key (`metric: sharpe_ratio`) or an importable
function of a trial's stats (`function: "mymodule:score"`), each with a
direction. Function objectives are evaluated inside the trial, on whichever
worker runs it, and their value is stored with the trial's stats under the
objective's `name`; so resuming, the best trial and the Pareto front all read
values from the store the same way for both kinds.

With several objectives the sweep's answer is the Pareto front: the ok trials
that no other ok trial beats on every objective (a trial with an undefined
value on any objective is left out), sorted by trial id.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from isoloop.config.classpath import import_function as _import_function
from isoloop.errors import BlueprintError, ConfigError

__all__ = [
    "Direction",
    "Objective",
    "ParetoTrial",
    "evaluate_functions",
    "function_ref",
    "import_function",
    "objective_values",
    "pareto_front",
]

Direction = Literal["maximize", "minimize"]
StatsFn = Callable[[Mapping[str, float]], float]

_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Objective:
    """One objective: where its value lives in a trial's stats (`name`) and its direction."""

    name: str
    direction: Direction = "maximize"
    function: str | None = None  # `module:func`; None: `name` is a stats key

    def sign(self) -> float:
        return 1.0 if self.direction == "maximize" else -1.0


@dataclass(frozen=True, slots=True)
class ParetoTrial:
    """A trial on the Pareto front: its id, parameters and objective values (by name)."""

    trial_id: int
    params: Mapping[str, Any]
    values: Mapping[str, float]

    def to_json(self) -> dict[str, Any]:
        return {"trial_id": self.trial_id, "params": dict(self.params), "values": dict(self.values)}


def objective_values(
    objectives: Sequence[Objective], stats: Mapping[str, Any], status: str
) -> tuple[float, ...] | None:
    """The trial's objective values, or None when it failed or any value is undefined."""
    if status != "ok":
        return None
    values: list[float] = []
    for objective in objectives:
        raw = stats.get(objective.name)
        if raw is None:
            return None
        value = float(raw)
        if not math.isfinite(value):
            return None
        values.append(value)
    return tuple(values)


def pareto_front(
    entries: Iterable[tuple[int, tuple[float, ...]]], objectives: Sequence[Objective]
) -> list[int]:
    """Ids of the non-dominated entries, sorted; equal value vectors are all kept.

    Entries are sorted best-first lexicographically (signs applied), so no entry can
    be dominated by one after it: each is compared with the front found so far only.
    """
    signs = [o.sign() for o in objectives]
    keyed = sorted(
        ((tuple(-s * v for s, v in zip(signs, values, strict=True)), trial_id))
        for trial_id, values in entries
    )
    if len(signs) == 2:
        return _front_of_two(keyed)
    front: list[tuple[tuple[float, ...], int]] = []
    for key, trial_id in keyed:
        # key is "lower is better" on every axis: f dominates key when f <= key everywhere
        # and f != key (an equal vector does not dominate).
        if any(f != key and all(a <= b for a, b in zip(f, key, strict=True)) for f, _ in front):
            continue
        front.append((key, trial_id))
    return sorted(trial_id for _, trial_id in front)


def _front_of_two(keyed: Sequence[tuple[tuple[float, ...], int]]) -> list[int]:
    """Two objectives in O(n log n) (a 250k-trial front is common when they conflict).

    Walking groups of equal first value in order: only a group's lowest second value
    can be on the front, and only if it is below every earlier group's.
    """
    front: list[int] = []
    best_second = math.inf
    start = 0
    while start < len(keyed):
        first = keyed[start][0][0]
        stop = start
        while stop < len(keyed) and keyed[stop][0][0] == first:
            stop += 1
        lowest = keyed[start][0][1]  # the group is sorted by its second value
        if lowest < best_second:
            front.extend(i for key, i in keyed[start:stop] if key[1] == lowest)
        best_second = min(best_second, lowest)
        start = stop
    return sorted(front)


def import_function(ref: str, *, where: str, search: Sequence[str | Path] = ()) -> StatsFn:
    """Import `module:function` by the class-path rules (allow-list, search folders);
    every refusal is a `ConfigError` naming `where`, the sweep key that named it."""
    try:
        return cast("StatsFn", _import_function(ref, where=where, search=search))
    except BlueprintError as exc:
        raise ConfigError(str(exc)) from None


def function_ref(fn: object, *, where: str) -> str:
    """`module:function` for a function object, refused unless that path imports it back.

    Trials may run in other processes, which import the objective by this path, and the
    sweep's definition (its store key and outputs) records the path: a lambda, a nested
    function or a bound method has no such path.
    """
    qualname = str(getattr(fn, "__qualname__", ""))
    module = str(getattr(fn, "__module__", "") or "")
    why = (
        "trials may run in other processes, which import it by 'module:function', and the "
        "sweep records that path; define it with `def` at the top level of a module or "
        "of the notebook"
    )
    if not callable(fn) or isinstance(fn, type):
        raise ConfigError(f"{where}: expected a function of the stats, got {fn!r}")
    if not _NAME.fullmatch(qualname) or not module:
        shown = qualname or type(fn).__name__
        raise ConfigError(f"{where}: {shown!r} is not a module-level function; {why}")
    ref = f"{module}:{qualname}"
    try:
        found = import_function(ref, where=where)
    except ConfigError:
        found = None
    if found is not fn:
        raise ConfigError(f"{where}: {ref!r} does not import back as this function; {why}")
    return ref


def evaluate_functions(
    functions: Sequence[tuple[str, str]],
    stats: Mapping[str, float],
    search: Sequence[str | Path] = (),
) -> dict[str, float]:
    """Each `(name, module:function)` applied to the trial's stats; raises on a bad value.

    Runs inside the trial, so an exception (or a non-finite value) fails that trial
    only, recorded with its error, and the sweep goes on.
    """
    out: dict[str, float] = {}
    for name, ref in functions:
        fn = import_function(ref, where=f"objective {name!r}", search=search)
        value = fn(dict(stats))
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"objective {name!r} ({ref}) returned {type(value).__name__}, not a number"
            ) from None
        if not math.isfinite(number):
            raise ValueError(f"objective {name!r} ({ref}) returned {number!r}, not a finite number")
        out[name] = number
    return out
