"""A process worker holds its next trial while it runs one (short trials only).

What a user would notice if the hand-over broke: a trial waiting behind one that
dies, times out or recycles its worker is lost (the sweep hangs), run twice, or
charged a retry it never used; a waiting trial is timed out for the time it spent
queued; a trial behind a slow one waits while another worker idles.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import support.sweep_trials as st
from isoloop.sweep import ProcessExecutor, TrialSpec, trial_seed
from isoloop.sweep.executors.process import PREFETCH_BELOW_S

pytestmark = pytest.mark.timeout(180)


def _specs(n: int, **extra: object) -> list[TrialSpec]:
    grid = dict(st.grid30().trials())
    return [TrialSpec(i, {**grid[i], **extra}, trial_seed(42, i)) for i in range(n)]


def _pulled(specs: list[TrialSpec], log: list[int]) -> Iterator[TrialSpec]:
    for spec in specs:
        log.append(spec.trial_id)
        yield spec


def _by_id(results):
    ids = [r.trial_id for r in results]
    assert len(ids) == len(set(ids)), f"a trial came back twice: {sorted(ids)}"
    return {r.trial_id: r for r in results}


def test_a_worker_holds_the_next_trial_only_while_trials_are_short():
    # One worker: after a short trial, two specs are outstanding (one running, one
    # waiting in its pipe); after a slow one, only one.
    log: list[int] = []
    seen: list[tuple[int, int]] = []  # (trial id that finished, specs pulled by then)
    slow = {"3": PREFETCH_BELOW_S + 0.2}
    with ProcessExecutor(1) as executor:
        handle = executor.share(st.goog())
        ctx = {**st.CONTEXT, "sleep_s": 0.0, "sleep_by_id": slow}
        for result in executor.map(st.sleepy, _pulled(_specs(8), log), handle, context=ctx):
            seen.append((result.trial_id, len(log)))
    assert [t for t, _ in seen] == list(range(8))
    pulled = dict(seen)
    assert pulled[0] == 1  # nothing known about the trials yet: one at a time
    assert pulled[1] == 3  # trial 0 was short: trial 2 waited behind trial 1
    assert pulled[3] == 5  # trial 4 was queued behind trial 3 (not yet known to be slow)
    assert pulled[4] == 5  # trial 3 was slow: nothing was queued behind trial 4
    assert pulled[5] == 7  # trial 4 was short again


def test_a_trial_waiting_behind_a_dying_trial_runs_once_without_a_retry(tmp_path):
    ctx = {**st.CONTEXT, "sleep_s": 0.0, "marker_dir": str(tmp_path), "exit_ids": [2]}
    with ProcessExecutor(1) as executor:
        handle = executor.share(st.goog())
        results = list(executor.map(st.exiting, iter(_specs(6)), handle, context=ctx, retries=1))
    by_id = _by_id(results)
    assert sorted(by_id) == list(range(6))
    assert by_id[2].status == "crashed" and by_id[2].attempts == 2
    assert all(by_id[i].status == "ok" and by_id[i].attempts == 1 for i in (0, 1, 3, 4, 5))


def test_a_trial_waiting_behind_a_hung_trial_runs_after_the_kill(tmp_path):
    ctx = {**st.CONTEXT, "sleep_s": 0.0, "marker_dir": str(tmp_path), "hang_id": 2}
    with ProcessExecutor(1) as executor:
        handle = executor.share(st.goog())
        results = list(executor.map(st.hanging, iter(_specs(5)), handle, context=ctx, timeout_s=2))
    by_id = _by_id(results)
    assert by_id[2].status == "timeout"
    assert all(by_id[i].status == "ok" and by_id[i].attempts == 1 for i in (0, 1, 3, 4))


def test_a_waiting_trial_is_timed_from_when_it_begins():
    # Trial 2 (1.2 s) waits behind trial 1 (1.2 s): 2.4 s after it was sent, but it
    # ran for 1.2 s, well inside the 2 s timeout.
    ctx = {**st.CONTEXT, "sleep_s": 0.0, "sleep_by_id": {"1": 1.2, "2": 1.2}}
    with ProcessExecutor(1) as executor:
        handle = executor.share(st.goog())
        results = list(executor.map(st.sleepy, iter(_specs(4)), handle, context=ctx, timeout_s=2))
    by_id = _by_id(results)
    assert {i: r.status for i, r in by_id.items()} == dict.fromkeys(range(4), "ok")


def test_recycling_workers_lose_no_waiting_trial():
    with ProcessExecutor(2, recycle_after=1) as executor:
        handle = executor.share(st.goog())
        ctx = {**st.CONTEXT, "sleep_s": 0.0}
        results = list(executor.map(st.toy, iter(_specs(12)), handle, context=ctx))
    by_id = _by_id(results)
    assert sorted(by_id) == list(range(12))
    assert all(r.status == "ok" and r.attempts == 1 and r.recycled for r in results)
    assert len({r.worker for r in results}) == 12  # a fresh worker for every trial


def test_specs_too_big_for_the_pipe_wait_in_the_driver():
    # 1 MB of parameters per trial: more than a pipe holds while its worker is busy.
    blob = "x" * 1_000_000
    with ProcessExecutor(1) as executor:
        handle = executor.share(st.goog())
        ctx = {**st.CONTEXT, "sleep_s": 0.0}
        started = time.monotonic()
        results = list(executor.map(st.toy, iter(_specs(6, blob=blob)), handle, context=ctx))
        assert time.monotonic() - started < 60
    by_id = _by_id(results)
    assert sorted(by_id) == list(range(6))
    assert all(r.status == "ok" for r in results)
