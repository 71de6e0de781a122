"""A Dask sweep never loses its workers: not to crashing trials, not to a misread.

distributed's SpecCluster closes a worker's nanny when no worker of that name has
registered `lost-worker-timeout` after a death. The executor must bring its local
cluster back to size, or a sweep of crashing trials waits forever (a CI run hung
on it). A timeout far below a worker's start-up makes the loss certain, so the
test fails (by its hang guard) without the repair.
"""

from __future__ import annotations

import time
from pathlib import Path

import dask
import pytest

import support.sweep_trials as st

pytestmark = [pytest.mark.distributed, pytest.mark.timeout(600)]

distributed = pytest.importorskip("distributed")

EXIT_IDS = (3, 11)
RETRIES = 3  # room for the deaths Dask causes itself at this timeout (below)


def test_a_sweep_of_crashing_trials_keeps_its_local_cluster_at_size(tmp_path):
    from isoloop.sweep.executors.dask import DaskExecutor

    ctx = {**st.CONTEXT, "marker_dir": str(tmp_path), "exit_ids": EXIT_IDS}
    with (
        dask.config.set({"distributed.deploy.lost-worker-timeout": "50ms"}),
        DaskExecutor(2) as executor,
    ):
        out = st.run_grid30(
            executor, fn=st.exiting, context=ctx, store=tmp_path / "s.sqlite", retries=RETRIES
        )
        table = out.trials.set_index("trial_id")
        assert list(table.index) == list(range(30))
        assert set(table.loc[list(EXIT_IDS), "status"]) == {"crashed"}
        for trial_id in EXIT_IDS:
            # it ran and killed its worker, never more often than its attempts (an
            # attempt whose worker Dask closed before it began leaves no marker)
            assert 1 <= len(list(tmp_path.glob(f"exit-{trial_id}-*"))) <= RETRIES + 1
        healthy = [i for i in range(30) if i not in EXIT_IDS]
        # Not `attempts == 1`: at 50 ms Dask itself closes workers that are running
        # trials (a nanny it has decided to close still starts its worker, then stops
        # it; seen in CI), and each such death is rightly retried. That a crash is
        # never blamed on a healthy trial is tested at Dask's real timeout
        # (test_sweep_crash_vs_timeout.py).
        assert (table.loc[healthy, "status"] == "ok").all()
        # the cluster is back at its size for whatever runs next (raises if not)
        executor.client.wait_for_workers(2, timeout=120)


def test_a_worker_that_restarts_at_its_address_is_used_again(tmp_path):
    """`dask worker --worker-port P` restarts at P after a crash: the fresh worker
    process must be told from the dead one, not shunned as dead for good."""
    from isoloop.sweep.executors.dask import DaskExecutor
    from support.external_clusters import dask_cluster, free_port

    port = free_port()
    ctx = {**st.CONTEXT, "marker_dir": str(tmp_path), "exit_ids": EXIT_IDS[:1]}
    tests_dir = str(Path(__file__).parents[1])
    with (
        dask_cluster(
            tmp_path, workers=1, worker_port=port, env={"PYTHONPATH": tests_dir}
        ) as address,
        DaskExecutor(address=address) as executor,
    ):
        out = st.run_grid30(
            executor, fn=st.exiting, context=ctx, store=tmp_path / "s.sqlite", retries=1
        )
    table = out.trials.set_index("trial_id")
    assert list(table.index) == list(range(30))
    assert table.loc[EXIT_IDS[0], "status"] == "crashed", table.loc[EXIT_IDS[0], "error"]
    assert len(list(tmp_path.glob(f"exit-{EXIT_IDS[0]}-*"))) == 2  # both attempts ran
    healthy = table.drop(index=EXIT_IDS[0])
    assert (healthy["status"] == "ok").all() and (healthy["attempts"] == 1).all()
    # The one worker's restart at the same address ran the trials after the crash:
    # results come from two processes (the worker column is host:pid).
    assert len({w.rsplit(":", 1)[1] for w in healthy["worker"]}) == 2


def test_the_clients_own_refresh_of_its_worker_cache_kills_no_trial(tmp_path):
    """distributed's client refreshes a cached summary of the scheduler (no workers in
    it) on a timer. Read in the wrong instant, every healthy worker looked dead and its
    trial was blamed and retried (seen once in CI). With the timer at 1 ms the wrong
    instant is the usual one."""
    from isoloop.sweep.executors.dask import DaskExecutor

    with DaskExecutor(2) as executor:
        executor.client._periodic_callbacks["scheduler-info"].callback_time = 1
        time.sleep(2.5)  # the timer takes its new period after the current one (2 s)
        # 30 trials of 0.5 s on 2 workers: the executor looks at its workers 15+ times
        # while trials run (every 0.5 s), a quarter of such reads of the cache are empty.
        ctx = {**st.CONTEXT, "sleep_by_id": {str(i): 0.5 for i in range(30)}}
        out = st.run_grid30(
            executor, fn=st.sleepy, context=ctx, store=tmp_path / "s.sqlite", timeout_s=60.0
        )
    assert (out.trials["status"] == "ok").all(), out.trials[["status", "error"]]
    assert (out.trials["attempts"] == 1).all()
