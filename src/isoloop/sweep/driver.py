"""The sweep driver: search → executor → store, with resume and progress.

The driver is the only writer of the sweep store; it records each result the
moment it arrives, keyed by trial id. Specs are generated lazily and pulled by
the executor only when it has room (`max_in_flight`, else the executor's own
window), so the driver holds at most that many specs at once whatever the size
of the search.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from isoloop.data.bars import MarketData
from isoloop.errors import ConfigError
from isoloop.results.digest import canonical_json, sweep_digest
from isoloop.sweep.executors.base import Executor, TrialContext, TrialFn, freeze_context
from isoloop.sweep.objective import Objective, ParetoTrial, objective_values, pareto_front
from isoloop.sweep.optuna_search import OptunaSearch
from isoloop.sweep.search import GridSearch, Params, RandomSearch
from isoloop.sweep.spec import STATS_KEYS, TrialResult, TrialSpec, trial_seed
from isoloop.sweep.store import SweepStore

__all__ = [
    "BestTrial",
    "ProgressFn",
    "SweepDriver",
    "SweepOutcome",
    "run_generic_sweep",
    "sweep_key",
]

Search = GridSearch | RandomSearch | OptunaSearch


@dataclass(frozen=True, slots=True)
class BestTrial:
    trial_id: int
    params: Mapping[str, Any]
    value: float
    stats: Mapping[str, float]


#: on_progress(done, failed, running, total, best): `done` counts finished trials
#: (failed ones included, resumed ones too), `running` those handed to the executor.
ProgressFn = Callable[[int, int, int, int, BestTrial | None], None]


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    """A finished sweep: the trials table (sorted by trial id), counts, best trial, digest."""

    trials: pd.DataFrame
    total: int
    done: int
    failed: int
    best: BestTrial | None
    sweep_digest: str
    sweep_key: str
    resumed: int  # trials found finished in the store and not rerun
    executed: int  # trials run by this call
    peak_outstanding: int  # most specs handed out and not yet answered at any moment
    # The trials no other ok trial beats on every objective, sorted by id (with one
    # objective: the trials with the best value); recomputed from the store each run.
    pareto: tuple[ParetoTrial, ...] = ()
    objectives: tuple[Objective, ...] = ()


def sweep_key(definition: Mapping[str, Any]) -> str:
    """SHA-256 of the sweep's canonical definition (space, constraint, search, base, seed)."""
    return hashlib.sha256(canonical_json(definition).encode("ascii")).hexdigest()


def _row_stats(row: Mapping[str, Any]) -> dict[str, float]:
    """A stored row's stats: the design's keys (NULL = not reported) plus the JSON extras."""
    stats: dict[str, float] = {k: row[k] for k in STATS_KEYS if row[k] is not None}
    stats.update(row["stats_extra"])
    return stats


@dataclass(slots=True)
class _Tally:
    """Counts and the best trial so far (by the first objective; ties: the lowest id)."""

    objectives: tuple[Objective, ...]
    done: int = 0
    failed: int = 0
    best: BestTrial | None = None
    keep_values: bool = False
    values: dict[int, tuple[float, ...]] = field(default_factory=dict)

    def add(
        self, trial_id: int, params: Mapping[str, Any], status: str, stats: Mapping[str, float]
    ) -> None:
        self.done += 1
        if status != "ok":
            self.failed += 1
        values = objective_values(self.objectives, stats, status)
        if values is None:
            return
        if self.keep_values:
            self.values[trial_id] = values
        value = values[0]
        best = self.best
        maximize = self.objectives[0].direction == "maximize"
        better = (
            best is None
            or (value > best.value if maximize else value < best.value)
            or (value == best.value and trial_id < best.trial_id)
        )
        if better:
            self.best = BestTrial(trial_id, dict(params), value, dict(stats))


@dataclass(slots=True)
class SweepDriver:
    """Runs one sweep definition on one executor into one store."""

    fn: TrialFn
    data: MarketData
    search: Search
    executor: Executor
    store: SweepStore
    definition: Mapping[str, Any]
    base_seed: int
    metric: str
    direction: Literal["maximize", "minimize"] = "maximize"
    context: TrialContext = field(default_factory=dict)
    # Overrides metric/direction: several objectives (a Pareto front), or functions.
    objectives: tuple[Objective, ...] | None = None
    timeout_s: float | None = None
    retries: int = 2
    max_in_flight: int | None = None
    on_progress: ProgressFn | None = None
    retry_failed: bool = False
    _outstanding: dict[int, TrialSpec] = field(default_factory=dict, init=False)
    _peak: int = field(default=0, init=False)
    _executed: int = field(default=0, init=False)

    def _specs(self, pairs: Iterator[tuple[int, Params]], skip: set[int]) -> Iterator[TrialSpec]:
        for trial_id, params in pairs:
            if trial_id in skip:
                continue
            spec = TrialSpec(trial_id, params, trial_seed(self.base_seed, trial_id))
            self._outstanding[trial_id] = spec
            self._peak = max(self._peak, len(self._outstanding))
            yield spec

    def _run(
        self,
        specs: Iterator[TrialSpec],
        handle: Any,
        tally: _Tally,
        total: int,
        *,
        keep: bool = False,
    ) -> dict[int, TrialResult]:
        """Run `specs`; each result is stored on arrival (kept in memory only if `keep`)."""
        results: dict[int, TrialResult] = {}
        # None lets the executor size its own window: 2 × workers for threads and
        # processes, 2 × workers × MAX_CHUNK for Dask/Ray so their chunks can grow.
        for result in self.executor.map(
            self.fn,
            specs,
            handle,
            context=self.context,
            timeout_s=self.timeout_s,
            retries=self.retries,
            max_in_flight=self.max_in_flight,
        ):
            spec = self._outstanding.pop(result.trial_id)
            self.store.record(spec, result)
            self._executed += 1
            if keep:
                results[result.trial_id] = result
            tally.add(result.trial_id, spec.params, result.status, result.stats)
            self._progress(tally, total)
        return results

    def objective_list(self) -> tuple[Objective, ...]:
        return self.objectives or (Objective(self.metric, self.direction),)

    def _values(self, stats: Mapping[str, float], status: str) -> float | tuple[float, ...] | None:
        """What the Optuna study is told: one value per objective (a float for one)."""
        values = objective_values(self.objective_list(), stats, status)
        if values is None:
            return None
        return values[0] if len(values) == 1 else values

    def _progress(self, tally: _Tally, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(tally.done, tally.failed, len(self._outstanding), total, tally.best)

    def run(self) -> SweepOutcome:
        key = sweep_key(self.definition)
        self.store.bind(key, self.definition)
        tally = _Tally(self.objective_list())
        finished = self.store.completed_ids(retry_failed=self.retry_failed)
        # Stream stored rows into the tally; keep them only for Optuna's replay (a
        # resumed 100k grid must not be loaded into memory).
        keep_rows = isinstance(self.search, OptunaSearch)
        stored: dict[int, dict[str, Any]] = {}
        for row in self.store.rows():
            if row["trial_id"] in finished:
                tally.add(row["trial_id"], row["params"], row["status"], _row_stats(row))
                if keep_rows:
                    stored[row["trial_id"]] = row
        total = self.search.total()
        self._progress(tally, total)
        handle = self.executor.share(self.data)
        if isinstance(self.search, OptunaSearch):
            self._run_optuna(self.search, handle, tally, stored)
        else:
            self._run(self._specs(self.search.trials(), finished), handle, tally, total)
        return self._outcome(key, len(finished))

    def _run_optuna(
        self,
        search: OptunaSearch,
        handle: Any,
        tally: _Tally,
        stored: Mapping[int, Mapping[str, Any]],
    ) -> None:
        total = search.total()
        while not search.finished:
            batch = search.ask_batch()
            if not batch:
                break
            for trial_id, params in batch:
                if trial_id in stored and stored[trial_id]["params"] != params:
                    raise ConfigError(
                        f"sweep store {self.store.path}: trial {trial_id} was stored with "
                        f"{stored[trial_id]['params']} but the study now asks {params}; the "
                        "optuna study did not replay identically — use a new store"
                    )
            todo = iter([(i, p) for i, p in batch if i not in stored])
            results = self._run(self._specs(todo, set()), handle, tally, total, keep=True)
            values: dict[int, float | tuple[float, ...] | None] = {}
            for trial_id, _ in batch:
                if trial_id in results:
                    r = results[trial_id]
                    values[trial_id] = self._values(r.stats, r.status)
                else:
                    row = stored[trial_id]
                    values[trial_id] = self._values(_row_stats(row), row["status"])
            search.tell_batch(values)

    def _outcome(self, key: str, resumed: int) -> SweepOutcome:
        objectives = self.objective_list()
        rows = list(self.store.rows())
        frame = self.store.frame(rows)
        records: list[dict[str, Any]] = []
        params: dict[int, Mapping[str, Any]] = {}
        tally = _Tally(objectives, keep_values=True)
        for row in rows:
            records.append(
                {
                    "id": row["trial_id"],
                    "params": row["params"],
                    "status": row["status"],
                    "digest": row["digest"],
                }
            )
            tally.add(row["trial_id"], row["params"], row["status"], _row_stats(row))
            if row["trial_id"] in tally.values:
                params[row["trial_id"]] = row["params"]
        names = [o.name for o in objectives]
        front = pareto_front(tally.values.items(), objectives)
        pareto = tuple(
            ParetoTrial(i, dict(params[i]), dict(zip(names, tally.values[i], strict=True)))
            for i in front
        )
        best = tally.best
        if len(objectives) > 1 and pareto:
            # Several objectives: the front's best on the first one (ties: the lowest id).
            sign = objectives[0].sign()
            top = min(pareto, key=lambda p: (-sign * p.values[names[0]], p.trial_id))
            stats = _row_stats(self.store.row(top.trial_id))
            best = BestTrial(top.trial_id, dict(top.params), top.values[names[0]], stats)
        if len(frame):
            for objective in objectives:
                if objective.function is not None:  # its value lives in stats_extra
                    frame[objective.name] = [
                        float(extra.get(objective.name, math.nan)) for extra in frame["stats_extra"]
                    ]
            on_front = set(front)
            frame["pareto"] = [int(i) in on_front for i in frame["trial_id"]]
        return SweepOutcome(
            trials=frame,
            total=self.search.total(),
            done=tally.done,
            failed=tally.failed,
            best=best,
            sweep_digest=sweep_digest(records),
            sweep_key=key,
            resumed=resumed,
            executed=self._executed,
            peak_outstanding=self._peak,
            pareto=pareto,
            objectives=objectives,
        )


def run_generic_sweep(
    fn: TrialFn,
    data: MarketData,
    *,
    search: Search,
    executor: Executor,
    definition: Mapping[str, Any],
    base_seed: int,
    metric: str,
    direction: Literal["maximize", "minimize"] = "maximize",
    store: SweepStore | str | Path | None = None,
    context: TrialContext | None = None,
    timeout_s: float | None = None,
    retries: int = 2,
    max_in_flight: int | None = None,
    on_progress: ProgressFn | None = None,
    retry_failed: bool = False,
    objectives: tuple[Objective, ...] | None = None,
) -> SweepOutcome:
    """Run (or resume) a sweep of `fn` over `search` on `executor`; see `SweepDriver`.

    `definition` is what makes two sweeps "the same sweep" for resume (hashed into
    the store's sweep key): pass the space, constraint, search and base config.
    The executor is not closed here (the caller owns it; workers can be reused).
    """
    for objective in objectives or (Objective(metric, direction),):
        if objective.function is None and objective.name not in STATS_KEYS:
            raise ConfigError(
                f"objective.metric {objective.name!r} is not a stats key; use one of "
                f"{', '.join(STATS_KEYS)}"
            )
    own_store = not isinstance(store, SweepStore)
    sweep_store = store if isinstance(store, SweepStore) else SweepStore(store)
    try:
        return SweepDriver(
            fn=fn,
            data=data,
            search=search,
            executor=executor,
            store=sweep_store,
            definition=definition,
            base_seed=base_seed,
            metric=metric,
            direction=direction,
            context=freeze_context(context),
            timeout_s=timeout_s,
            retries=retries,
            max_in_flight=max_in_flight,
            on_progress=on_progress,
            retry_failed=retry_failed,
            objectives=objectives,
        ).run()
    finally:
        if own_store:
            sweep_store.close()
