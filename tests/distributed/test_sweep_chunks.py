"""Dask and Ray send several trials per task, yet record every trial on its own.

A trial that raises in the middle of a chunk is recorded "error" with its own
message; the chunk's other trials (before and after it) are "ok" on their
first attempt, each id appears once, and every row is the row a serial run
gives.
"""

from __future__ import annotations

import pytest

import support.sweep_trials as st
from isoloop.sweep import SerialExecutor

pytestmark = [pytest.mark.distributed, pytest.mark.timeout(900)]

distributed = pytest.importorskip("distributed")
ray = pytest.importorskip("ray")

# fast is the inner loop of the grid: every even trial id has fast == 8 and raises, so a
# task of three or more trials holds a raising trial between two healthy ones.
SPACE = {"slow": {"range": [20, 80, 2]}, "fast": [8, 9]}
CONTEXT = {**st.CONTEXT, "sleep_s": 0.0, "bad_fast": 8}


def _run(executor, **kw):
    from isoloop.sweep import GridSearch, SearchSpace, run_generic_sweep

    return run_generic_sweep(
        st.raising,
        st.goog(),
        search=GridSearch(SearchSpace.from_mapping(SPACE), None),
        executor=executor,
        definition={"space": SPACE, "search": {"method": "grid"}, "base": {"test": "chunks"}},
        base_seed=42,
        metric="sharpe_ratio",
        context=CONTEXT,
        **kw,
    )


@pytest.fixture(scope="module")
def serial_outcome():
    with SerialExecutor() as executor:
        return _run(executor)


@pytest.fixture(scope="module")
def dask_executor():
    from isoloop.sweep.executors.dask import DaskExecutor

    with DaskExecutor(2) as executor:
        yield executor


@pytest.fixture(scope="module")
def ray_executor():
    with st.ray_executor(2) as executor:
        yield executor


@pytest.mark.parametrize("name", ["dask", "ray"])
def test_chunked_run_records_each_trial_with_a_raising_one_inside_a_chunk(
    name, request, monkeypatch, serial_outcome
):
    executor = request.getfixturevalue(f"{name}_executor")
    sent: list[list[int]] = []  # the trial ids of each task, as submitted
    submit_chunk = executor.submit_chunk

    def recording(specs):
        sent.append([s.trial_id for s in specs])
        return submit_chunk(specs)

    monkeypatch.setattr(executor, "submit_chunk", recording)
    # No max_in_flight, as `isoloop sweep` runs it by default: the executor's own window
    # (2 × workers × 64) must leave room to batch the grid.
    out = _run(executor)

    table = out.trials.set_index("trial_id")
    assert list(table.index) == list(range(60))  # each trial recorded, once
    errors = {i for i in range(60) if i % 2 == 0}
    assert set(table.index[table["status"] == "error"]) == errors
    assert (table.loc[sorted(errors), "error"] == "ValueError: fast=8 is cursed").all()
    assert (table.drop(index=sorted(errors))["status"] == "ok").all()
    assert (table["attempts"] == 1).all()
    # the run really was chunked: some task ran a raising trial between two healthy ones
    assert sorted(i for ids in sent for i in ids) == list(range(60)), sent  # each sent once
    assert any(
        ids[i] in errors and ids[i - 1] not in errors and ids[i + 1] not in errors
        for ids in sent
        for i in range(1, len(ids) - 1)
    ), sent
    assert st.per_trial(out) == st.per_trial(serial_outcome)
    assert out.sweep_digest == serial_outcome.sweep_digest
