"""Dask and Ray tell a crashed worker from a hung trial, and a crash never costs a healthy trial.

Trials that kill their own worker (`os._exit`) on every attempt end "crashed" after the
retries; a hanging trial ends "timeout"; every other trial of the same sweep is "ok" on
its first attempt, and their digest is the one a serial run of those trials gives.
"""

from __future__ import annotations

import pytest

import support.sweep_trials as st
from isoloop.results.digest import sweep_digest
from isoloop.sweep import SerialExecutor

# A hang guard, not a speed check: a loaded 2-core box starts Ray slowly.
pytestmark = [pytest.mark.distributed, pytest.mark.timeout(900)]

distributed = pytest.importorskip("distributed")
ray = pytest.importorskip("ray")

EXIT_IDS = (3, 11, 20)
HANG_ID = 14
RETRIES = 1
TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def serial_outcome():
    with SerialExecutor() as executor:
        return st.run_grid30(executor)


@pytest.fixture(scope="module")
def dask_executor():
    from isoloop.sweep.executors.dask import DaskExecutor

    with DaskExecutor(2) as executor:
        yield executor


@pytest.fixture(scope="module")
def ray_executor():
    with st.ray_executor(2) as executor:
        yield executor


def _digest(table, ids):
    """The sweep digest over `ids` only, as `SweepOutcome.sweep_digest` computes it."""
    rows = table[table["trial_id"].isin(ids)].to_dict("records")
    return sweep_digest(
        [
            {
                "id": r["trial_id"],
                "params": r["params"],
                "status": r["status"],
                "digest": r["digest"],
            }
            for r in rows
        ]
    )


@pytest.mark.parametrize("name", ["dask", "ray"])
def test_crashing_trials_are_crashed_hung_is_timeout_healthy_are_ok(
    name, request, tmp_path, serial_outcome
):
    executor = request.getfixturevalue(f"{name}_executor")
    ctx = {**st.CONTEXT, "marker_dir": str(tmp_path), "exit_ids": EXIT_IDS, "hang_id": HANG_ID}
    out = st.run_grid30(
        executor,
        fn=st.exiting,
        context=ctx,
        store=tmp_path / "s.sqlite",
        timeout_s=TIMEOUT_S,
        retries=RETRIES,
    )
    table = out.trials.set_index("trial_id")
    assert list(table.index) == list(range(30))  # every trial recorded, once
    for trial_id in EXIT_IDS:
        row = table.loc[trial_id]
        assert row["status"] == "crashed", (trial_id, row["error"])
        assert row["attempts"] == RETRIES + 1
        assert "retries exhausted" in row["error"]
        # its worker really died on each attempt, and it was never run more often
        assert len(list(tmp_path.glob(f"exit-{trial_id}-*"))) == RETRIES + 1
    hung = table.loc[HANG_ID]
    assert hung["status"] == "timeout" and hung["attempts"] == 1
    assert f"trial_timeout={TIMEOUT_S:g}s" in hung["error"]
    healthy = [i for i in range(30) if i not in (*EXIT_IDS, HANG_ID)]
    assert (table.loc[healthy, "status"] == "ok").all(), table.loc[healthy, ["status", "error"]]
    assert (table.loc[healthy, "attempts"] == 1).all()  # no crash was blamed on them
    assert out.done == 30 and out.failed == len(EXIT_IDS) + 1
    expected = {k: v for k, v in st.per_trial(serial_outcome).items() if k in healthy}
    assert {k: v for k, v in st.per_trial(out).items() if k in healthy} == expected
    assert _digest(out.trials, healthy) == _digest(serial_outcome.trials, healthy)


@pytest.mark.parametrize("name", ["dask", "ray"])
def test_crashed_trials_are_final_on_resume(name, request, tmp_path):
    executor = request.getfixturevalue(f"{name}_executor")
    ctx = {**st.CONTEXT, "marker_dir": str(tmp_path), "exit_ids": EXIT_IDS[:1]}
    store = tmp_path / "s.sqlite"
    first = st.run_grid30(executor, fn=st.exiting, context=ctx, store=store, retries=0)
    assert first.trials.set_index("trial_id").loc[EXIT_IDS[0], "status"] == "crashed"
    again = st.run_grid30(executor, fn=st.exiting, context=ctx, store=store, retries=0)
    assert again.executed == 0 and again.sweep_digest == first.sweep_digest
    assert len(list(tmp_path.glob(f"exit-{EXIT_IDS[0]}-*"))) == 1
