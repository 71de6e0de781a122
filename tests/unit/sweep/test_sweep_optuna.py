"""Optuna searches: batched ask/tell gives the same study on any executor, and resumes."""

from __future__ import annotations

import importlib.util

import pytest

import support.sweep_trials as st
from isoloop.errors import ConfigError
from isoloop.sweep import (
    OptunaSearch,
    ProcessExecutor,
    SearchSpace,
    SerialExecutor,
    ThreadExecutor,
    compile_constraint,
    run_generic_sweep,
)

pytestmark = pytest.mark.timeout(180)

SPACE = {"fast": {"range": [2, 40, 2]}, "slow": {"range": [10, 100, 5]}}
CONTEXT = {"noise": 0.5}


def _search(n=20, sampler="tpe", direction="maximize"):
    space = SearchSpace.from_mapping(SPACE)
    return OptunaSearch(
        space,
        n,
        seed=11,
        direction=direction,
        sampler=sampler,
        batch_size=8,
        constraint=compile_constraint("fast + 10 < slow", space.keys),
    )


def _run(executor, search=None, store=None, fn=st.jitter, direction="maximize", **kw):
    search = search or _search(direction=direction)
    return run_generic_sweep(
        fn,
        st.goog(),
        search=search,
        executor=executor,
        definition={"space": SPACE, "search": "optuna-20", "direction": direction},
        base_seed=5,
        metric="sharpe_ratio",
        direction=direction,
        store=store,
        context=CONTEXT,
        **kw,
    )


@pytest.fixture(scope="module")
def serial_outcome():
    with SerialExecutor() as executor:
        return _run(executor)


def test_study_respects_the_constraint_and_trial_count(serial_outcome):
    table = serial_outcome.trials
    assert len(table) == 20 and (table["status"] == "ok").all()
    assert (table["param.fast"] + 10 < table["param.slow"]).all()
    assert list(table["trial_id"]) == sorted(table["trial_id"])
    assert serial_outcome.best.value == table["sharpe_ratio"].max()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: ThreadExecutor(4), id="thread4"),
        pytest.param(lambda: ProcessExecutor(2), id="process2"),
    ],
)
def test_same_study_whatever_the_completion_order(make, serial_outcome):
    with make() as executor:
        out = _run(executor)
    assert st.per_trial(out) == st.per_trial(serial_outcome)
    assert out.sweep_digest == serial_outcome.sweep_digest


def test_interrupted_optuna_sweep_resumes_to_the_same_study(tmp_path, serial_outcome):
    store = tmp_path / "o.sqlite"

    class Crash(Exception):
        pass

    def crash_after_11(done, failed, running, total, best):
        if done == 11:
            raise Crash

    with SerialExecutor() as executor:
        with pytest.raises(Crash):
            _run(executor, store=store, on_progress=crash_after_11)
        out = _run(executor, store=store)
    assert out.resumed == 11 and out.executed == 9
    assert st.per_trial(out) == st.per_trial(serial_outcome)
    assert out.sweep_digest == serial_outcome.sweep_digest


def test_minimize_and_other_samplers():
    with SerialExecutor() as executor:
        out = _run(executor, direction="minimize")
        assert out.best.value == out.trials["sharpe_ratio"].min()
        samplers = ["random"]
        if importlib.util.find_spec("cmaes") is not None:
            samplers.append("cmaes")
        else:  # not installed here: the user gets a clear error, not a crash mid-sweep
            with pytest.raises(ConfigError, match="needs the 'cmaes' package"):
                _search(12, "cmaes")
        for sampler in samplers:
            a = _run(executor, search=_search(12, sampler))
            b = _run(executor, search=_search(12, sampler))
            assert st.per_trial(a) == st.per_trial(b)
            assert len(a.trials) == 12


def test_failed_trials_are_told_as_failures_and_the_study_goes_on():
    ctx = {**CONTEXT, "bad_fast": 10}
    with SerialExecutor() as executor:
        out = run_generic_sweep(
            st.raising,
            st.goog(),
            search=_search(),
            executor=executor,
            definition={"x": 1},
            base_seed=5,
            metric="sharpe_ratio",
            context=ctx,
        )
    assert out.done == 20
    assert set(out.trials.loc[out.trials["param.fast"] == 10, "status"]) <= {"error"}
    assert out.failed == (out.trials["param.fast"] == 10).sum()
