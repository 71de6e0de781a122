"""An optuna sweep's study opens in Optuna's own tools, and resuming keeps it whole.

`run_sweep` mirrors an optuna sweep's study into the journal file
`<store>.optuna.log` (study name = the sweep id); these tests open it the way a
user would, with `optuna.load_study` and Optuna's own journal storage, and
compare it with the sweep's own trials table.
"""

from __future__ import annotations

import itertools
import math
import sqlite3
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

import support.sweep_trials as st
from isoloop.sweep import (
    OptunaSearch,
    SearchSpace,
    ThreadExecutor,
    compile_constraint,
    run_generic_sweep,
)
from isoloop.sweep.config import SweepConfig
from isoloop.sweep.objective import Objective
from isoloop.sweep.optuna_storage import StudyMirror, save_optuna_study
from isoloop.sweep.runner import run_sweep

pytestmark = pytest.mark.timeout(300)

SPACE = {"fast": {"range": [2, 30, 2]}, "slow": {"range": [10, 60, 5]}}


def _config(store: Path, **search: Any) -> dict[str, Any]:
    return {
        "kind": "sweep",
        "base": {
            "name": "study",
            "strategy": {"class": "isoloop.examples.sma_cross:SmaCross"},
            "data": {"source": "sample:GOOG"},
            "venue": {"cash": 10_000, "commission": 0.002},
        },
        "space": SPACE,
        "constraint": "fast + 5 < slow",
        "objective": {"metric": "sharpe_ratio", "direction": "maximize"},
        "search": {"method": "optuna", "trials": 14, "batch_size": 4, "seed": 7, **search},
        "executor": {"kind": "serial"},
        "store": str(store),
    }


def _journal(store: Path) -> Path:
    return store.with_name(store.name + ".optuna.log")


def _open(store: Path, name: str) -> optuna.Study:
    path = _journal(store)
    assert path.is_file()
    storage = JournalStorage(JournalFileBackend(str(path)))
    return optuna.load_study(study_name=name, storage=storage)


def test_the_study_opens_with_load_study_and_matches_the_trials(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    result = run_sweep(_config(store))
    assert result.optuna_storage == _journal(store)
    assert result.to_json()["optuna_storage"] == str(_journal(store))
    study = _open(store, result.sweep_id)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert study.metric_names == ["sharpe_ratio"]

    table = result.trials.set_index("trial_id")
    by_number = {t.number: t for t in study.trials}
    assert set(table.index) <= set(by_number)  # every stored trial, under its own id
    complete = optuna.trial.TrialState.COMPLETE
    for trial_id, row in table.iterrows():
        trial = by_number[trial_id]
        assert trial.user_attrs["trial_id"] == trial_id
        assert trial.user_attrs["status"] == row["status"]
        assert trial.params == {"fast": row["param.fast"], "slow": row["param.slow"]}
        if row["status"] == "ok" and math.isfinite(row["sharpe_ratio"]):
            assert trial.state == complete and trial.value == row["sharpe_ratio"]
    # Numbers the store has no row for were asks that broke the constraint.
    skipped_ids = set(by_number) - set(table.index)
    assert skipped_ids  # this space and seed do ask such points
    for number in skipped_ids:
        skipped = by_number[number]
        assert skipped.state == optuna.trial.TrialState.PRUNED
        assert skipped.user_attrs["status"] == "not run"
    best = max((t for t in study.trials if t.state == complete), key=lambda t: t.value)
    assert best.number == result.best.trial_id

    importances = optuna.importance.get_param_importances(study)
    assert set(importances) == {"fast", "slow"}
    assert sum(importances.values()) == pytest.approx(1.0)
    figure = optuna.visualization.plot_optimization_history(study)
    assert len(figure.data[0].x) == sum(t.state == complete for t in study.trials)


def test_a_resumed_sweep_continues_the_same_study_without_duplicates(tmp_path: Path) -> None:
    store = tmp_path / "r.sqlite"

    class Stop(Exception):
        pass

    def stop_after_6(done: int, failed: int, running: int, total: int, best: Any) -> None:
        if done == 6:
            raise Stop

    cfg = _config(store)
    with pytest.raises(Stop):
        run_sweep(cfg, on_progress=stop_after_6)
    reference = run_sweep(_config(tmp_path / "ref.sqlite"))
    # The study of the interrupted sweep, as it stood (what a dashboard showed).
    space = SweepConfig.model_validate(cfg).search_space()
    objectives = SweepConfig.model_validate(cfg).objective_list()
    save_optuna_study(store, reference.sweep_id, space, objectives)
    before = _open(store, reference.sweep_id).trials
    assert 6 <= len(before) < 14 + 8
    logged = _journal(store).read_bytes()

    resumed = run_sweep(cfg)
    assert resumed.resumed == 6 and resumed.executed == 8
    assert resumed.digest == reference.digest
    after = _open(store, resumed.sweep_id).trials
    # The same study, appended to: the journal grew, what it held is untouched.
    grown = _journal(store).read_bytes()
    assert len(grown) > len(logged) and grown.startswith(logged)
    assert [t.number for t in after] == list(range(len(after)))
    ok = [t.user_attrs["trial_id"] for t in after if t.user_attrs["status"] == "ok"]
    assert sorted(ok) == sorted(resumed.trials["trial_id"]) and len(set(ok)) == len(ok) == 14
    # The same study as an uninterrupted sweep's, trial for trial.
    fresh = _open(tmp_path / "ref.sqlite", reference.sweep_id).trials
    assert [(t.number, t.state, t.params, t.values) for t in after] == [
        (t.number, t.state, t.params, t.values) for t in fresh
    ]

    again = run_sweep(cfg)  # nothing left to run: the study is left as it is
    assert again.executed == 0 and again.digest == reference.digest
    assert _journal(store).read_bytes() == grown

    # A stored trial that changed (as a `retry_failed` rerun changes one): Optuna
    # cannot edit a finished trial, so the study is rebuilt to match the store.
    changed = ok[0]
    with sqlite3.connect(store) as db:
        db.execute(
            "UPDATE trials SET status = 'error', sharpe_ratio = NULL, error = ? WHERE trial_id = ?",
            ("Traceback ...\nValueError: boom", changed),
        )
    db.close()
    save_optuna_study(store, reference.sweep_id, space, objectives)
    rebuilt = _open(store, reference.sweep_id).trials
    assert len(rebuilt) == len(after)
    trial = rebuilt[changed]
    assert trial.state == optuna.trial.TrialState.FAIL
    assert (trial.user_attrs["status"], trial.user_attrs["error"]) == ("error", "ValueError: boom")
    assert [t.values for t in rebuilt if t.number != changed] == [
        t.values for t in after if t.number != changed
    ]


def test_a_multi_objective_study_keeps_each_objective_and_the_same_front(tmp_path: Path) -> None:
    store = tmp_path / "m.sqlite"
    cfg = _config(store, trials=8, sampler="nsga2")
    del cfg["objective"]
    cfg["objectives"] = [
        {"metric": "sharpe_ratio", "direction": "maximize"},
        {"metric": "trades", "direction": "minimize"},
    ]
    result = run_sweep(cfg)
    study = _open(store, result.sweep_id)
    direction = optuna.study.StudyDirection
    assert study.directions == [direction.MAXIMIZE, direction.MINIMIZE]
    assert study.metric_names == ["sharpe_ratio", "trades"]
    by_number = {t.number: t for t in study.trials}
    for trial_id, row in result.trials.set_index("trial_id").iterrows():
        if row["status"] == "ok" and math.isfinite(row["sharpe_ratio"]):
            assert by_number[trial_id].values == [row["sharpe_ratio"], row["trades"]]
    # Optuna's own Pareto front of the study is the sweep's front.
    front = {t.number for t in study.best_trials}
    assert front and front == {p.trial_id for p in result.pareto_trials}


def test_the_study_follows_a_running_sweep_and_only_ever_grows(tmp_path: Path) -> None:
    # Four threads finish trials out of order; the mirror saves whenever nothing is
    # in flight (no spacing, for the test). A trial still running must never
    # be written as a "not run" placeholder, or a later save would rewrite the file.
    store = tmp_path / "live.sqlite"
    space_map = {"fast": {"range": [2, 40, 2]}, "slow": {"range": [10, 100, 5]}}
    space = SearchSpace.from_mapping(space_map)
    objectives = (Objective("sharpe_ratio"),)
    mirror = StudyMirror(store, "live", space, objectives, every_s=0.0, cost_factor=0.0)
    seen: list[tuple[int, bytes]] = []

    def watch(done: int, failed: int, running: int, total: int, best: Any) -> None:
        if running == 0 and _journal(store).exists():
            seen.append((done, _journal(store).read_bytes()))

    search = OptunaSearch(
        space,
        20,
        seed=11,
        batch_size=8,
        constraint=compile_constraint("fast + 30 < slow", space.keys),
    )
    with ThreadExecutor(4) as executor:
        out = run_generic_sweep(
            st.jitter,
            st.goog(),
            search=search,
            executor=executor,
            definition={"space": space_map, "search": "live"},
            base_seed=5,
            metric="sharpe_ratio",
            store=store,
            context={"noise": 0.5},
            on_progress=mirror.progress(watch),
        )
    assert out.done == 20
    # Saved while the sweep ran: the file changed several times before the end.
    assert len({data for done, data in seen if done < 20}) >= 3
    seen.append((20, mirror.save().read_bytes()))  # run_sweep's final save
    for (_, earlier), (_, later) in itertools.pairwise(seen):
        assert later.startswith(earlier)
    study = _open(store, "live")
    stored = set(out.trials["trial_id"])
    assert {t.number for t in study.trials if t.user_attrs["status"] != "not run"} == stored
    assert len(study.trials) == max(stored) + 1
