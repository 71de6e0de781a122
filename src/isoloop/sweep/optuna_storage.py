"""An optuna sweep's study, persisted where Optuna's own tools can open it.

The driver runs an optuna search on an in-memory study that it rebuilds from the
sweep store on resume (same seeded asks, stored results told back), which is
what keeps resume and digests exact. This module mirrors that study into an
Optuna journal file beside the store — `<store>.optuna.log`, one study named
after the sweep id — so `optuna.load_study`, `optuna.visualization` and
`optuna-dashboard` open it. A journal, not an RDB (SQLite) storage: Optuna's
RDB storage commits each trial in about a dozen ORM round trips (≈20× slower
here, so a 500-trial study took a minute to write), the journal appends one
line per trial. The sweep store stays the single source of truth:
the mirror is written from it, never read back by a sweep, and it can be
deleted at any time (the next run of the sweep writes it again).

Study trial numbers are the sweep's trial ids. Ids the store has no row for
(asks that violated the constraint, told PRUNED without running) become PRUNED
placeholders, so the numbering stays aligned. A resumed sweep appends its new
trials to the same study; when a stored trial changed (a `retry_failed` rerun)
the journal is rewritten from the store, since Optuna cannot edit a finished trial.

While a sweep runs, `StudyMirror` rewrites the study from its progress callback
at moments when every id below the highest stored one is settled (nothing in
flight: the driver hands trials out in id order), at most every few seconds, so
a dashboard watches the sweep; the final save happens when the sweep returns.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from isoloop.sweep.backtests import sweep_definition, sweep_id
from isoloop.sweep.driver import BestTrial, ProgressFn, sweep_key
from isoloop.sweep.loading import LoadedSweep
from isoloop.sweep.objective import Objective, objective_values
from isoloop.sweep.optuna_search import optuna_distributions
from isoloop.sweep.space import SearchSpace
from isoloop.sweep.spec import STATS_KEYS
from isoloop.sweep.store import SweepStore

__all__ = [
    "NOT_RUN",
    "StudyMirror",
    "open_optuna_storage",
    "optuna_storage_path",
    "save_optuna_study",
    "study_mirror",
]

#: The `status` user attribute of a placeholder for an id with no stored trial.
NOT_RUN = "not run"
_ERROR_CHARS = 300  # the dashboard shows user attributes in a table cell


def optuna_storage_path(store: str | Path) -> Path:
    """`results/x.sqlite` → `results/x.sqlite.optuna.log` (what `optuna-dashboard` takes)."""
    path = Path(store)
    return path.with_name(f"{path.name}.optuna.log")


def open_optuna_storage(store: str | Path) -> Any:
    """The journal storage of the sweep stored at `store`, for `optuna.load_study(storage=...)`."""
    from optuna.exceptions import ExperimentalWarning
    from optuna.storages import JournalStorage

    try:  # Optuna >= 4.0
        from optuna.storages.journal import JournalFileBackend as Backend
    except ImportError:  # pragma: no cover - Optuna 3.x
        from optuna.storages import JournalFileStorage as Backend
    with warnings.catch_warnings():  # experimental in Optuna 3.x, stable since 4.0
        warnings.simplefilter("ignore", ExperimentalWarning)
        return JournalStorage(Backend(str(optuna_storage_path(store))))


def _last_line(error: str | None) -> str | None:
    if not error:
        return None
    lines = [line for line in error.strip().splitlines() if line.strip()]
    return lines[-1][:_ERROR_CHARS] if lines else None


def _trial(
    row: Mapping[str, Any], distributions: Mapping[str, Any], objectives: Sequence[Objective]
) -> Any:
    """The stored trial as an Optuna FrozenTrial (COMPLETE with its values, else FAIL)."""
    import optuna

    stats: dict[str, Any] = {k: row[k] for k in STATS_KEYS if row[k] is not None}
    stats.update(row["stats_extra"])
    values = objective_values(objectives, stats, row["status"])
    attrs: dict[str, Any] = {"trial_id": row["trial_id"], "status": row["status"]}
    if row["digest"]:
        attrs["digest"] = row["digest"]
    error = _last_line(row["error"])
    if error:
        attrs["error"] = error
    params = {k: v for k, v in row["params"].items() if k in distributions}
    state = optuna.trial.TrialState
    return optuna.trial.create_trial(
        state=state.COMPLETE if values is not None else state.FAIL,
        params=params,
        distributions={k: distributions[k] for k in params},
        values=list(values) if values is not None else None,
        user_attrs=attrs,
    )


def _placeholder(trial_id: int) -> Any:
    import optuna

    return optuna.trial.create_trial(
        state=optuna.trial.TrialState.PRUNED,
        user_attrs={"trial_id": trial_id, "status": NOT_RUN},
    )


def _same(a: Any, b: Any) -> bool:
    """Two FrozenTrials record the same outcome (what the dashboard would show)."""
    return (
        a.state == b.state
        and a.user_attrs == b.user_attrs
        and a.params == b.params
        and _values(a) == _values(b)
    )


def _values(trial: Any) -> tuple[float, ...] | None:
    values = trial.values
    return None if values is None else tuple(float(v) for v in values)


def save_optuna_study(
    store: str | Path,
    study_name: str,
    space: SearchSpace,
    objectives: Sequence[Objective],
) -> Path:
    """Mirror the sweep store's trials into the study `study_name` beside it; its path.

    Appends the trials the study lacks; rebuilds it when a trial it holds no
    longer matches the store. Idempotent: a second call with nothing new writes
    nothing.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = optuna_distributions(space)
    wanted: list[Any] = []
    with SweepStore(store) as sweep_store:
        for row in sweep_store.rows():
            while len(wanted) < row["trial_id"]:
                wanted.append(_placeholder(len(wanted)))
            wanted.append(_trial(row, distributions, objectives))
    path = optuna_storage_path(store)
    directions = [o.direction for o in objectives]
    storage = open_optuna_storage(store)
    try:  # not create_study(load_if_exists=True): it logs a create op on every call
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        study = optuna.create_study(storage=storage, study_name=study_name, directions=directions)
    held = study.get_trials(deepcopy=False)
    same_directions = [d.name.lower() for d in study.directions] == directions
    if not same_directions or len(held) > len(wanted) or not all(map(_same, held, wanted)):
        # A journal only grows: start a new file rather than log a delete and a rebuild.
        path.unlink()
        study = optuna.create_study(
            storage=open_optuna_storage(store), study_name=study_name, directions=directions
        )
        held = []
    names = [o.name for o in objectives]
    if study.metric_names != names:
        with warnings.catch_warnings():  # experimental since Optuna 3.2, and stable in use
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(names)
    if len(wanted) > len(held):
        study.add_trials(wanted[len(held) :])
    return path


@dataclass(slots=True)
class StudyMirror:
    """Keeps a running optuna sweep's study file current from the driver's progress calls.

    A save rereads the store and the journal, so saves are spaced by at least
    `every_s` seconds and by `cost_factor` times the last save's duration (at 4 a
    mirror never costs a sweep more than a fifth of its time, whatever the trial
    count).
    """

    store: Path
    study_name: str
    space: SearchSpace
    objectives: tuple[Objective, ...]
    every_s: float = 5.0
    cost_factor: float = 4.0
    _next: float = field(default=0.0, init=False)

    def save(self) -> Path:
        started = time.monotonic()
        path = save_optuna_study(self.store, self.study_name, self.space, self.objectives)
        finished = time.monotonic()
        self._next = finished + max(self.every_s, self.cost_factor * (finished - started))
        return path

    def progress(self, then: ProgressFn | None = None) -> ProgressFn:
        """A progress callback that saves when nothing is in flight, then calls `then`."""

        def on_progress(
            done: int, failed: int, running: int, total: int, best: BestTrial | None
        ) -> None:
            # running == 0: every id handed out is stored, so the store's gaps below
            # its highest id are asks the constraint pruned, not trials still running.
            if running == 0 and time.monotonic() >= self._next:
                try:
                    self.save()
                except OSError:
                    # A copy of the store must not fail the sweep it mirrors (a full
                    # disk, a file locked by a reader); the final save raises it.
                    self._next = time.monotonic() + self.every_s
            if then is not None:
                then(done, failed, running, total, best)

        return on_progress


def study_mirror(
    loaded: LoadedSweep, prints: Mapping[str, str], store: Path | None
) -> StudyMirror | None:
    """The mirror of an optuna sweep with a store; None for any other sweep.

    Walk-forward windows get none: each window is a sweep of its own store, and
    their studies would describe train windows, not the sweep a user looks at.
    """
    cfg = loaded.config
    if cfg.search.method != "optuna" or store is None or cfg.walk_forward is not None:
        return None
    name = sweep_id(loaded, sweep_key(sweep_definition(loaded, prints)))
    return StudyMirror(store, name, cfg.search_space(), cfg.objective_list())
