"""Large grids are generated lazily: specs are pulled only when the executor has room."""

from __future__ import annotations

import pytest

import support.sweep_trials as st
from isoloop.sweep import (
    GridSearch,
    ProcessExecutor,
    SearchSpace,
    SerialExecutor,
    SweepStore,
    TrialSpec,
    run_generic_sweep,
)

pytestmark = pytest.mark.timeout(180)


class CountingGrid(GridSearch):
    """A grid that counts points generated, to compare with results received."""

    __slots__ = ("generated",)

    def trials(self):
        self.generated = 0
        for item in super().trials():
            self.generated += 1
            yield item


def _sweep(n_a, n_b, executor, store, max_in_flight):
    space = SearchSpace.from_mapping({"a": {"range": [0, n_a, 1]}, "b": {"range": [0, n_b, 1]}})
    search = CountingGrid(space)
    seen = []

    def on_progress(done, failed, running, total, best):
        # generated-but-unanswered points at every result: the specs alive in the driver
        # (done == 0 is the call before any trial ran, after total() made its counting pass)
        if done:
            seen.append(search.generated - done)

    out = run_generic_sweep(
        st.quick,
        st.goog(),
        search=search,
        executor=executor,
        definition={"space": {"a": n_a, "b": n_b}},
        base_seed=1,
        metric="sharpe_ratio",
        store=store,
        max_in_flight=max_in_flight,
        on_progress=on_progress,
    )
    return out, max(seen), search


def test_100k_grid_never_holds_more_than_max_in_flight_specs(tmp_path):
    store = tmp_path / "big.sqlite"
    with SerialExecutor() as executor:
        out, most_pending, search = _sweep(400, 250, executor, store, max_in_flight=4)
    assert search.total() == 100_000 == out.total == out.done
    assert most_pending <= 4
    assert out.peak_outstanding <= 4
    with SweepStore(store) as s:
        assert len(s) == 100_000
        last = list(s.rows())[-1]
    assert last["trial_id"] == 99_999 and last["params"] == {"a": 399, "b": 249}
    assert last["sharpe_ratio"] == 399 - 249
    assert out.best is not None and out.best.params == {"a": 399, "b": 0}


def test_process_pool_pulls_specs_lazily(tmp_path):
    with ProcessExecutor(2) as executor:
        out, most_pending, _ = _sweep(40, 50, executor, tmp_path / "p.sqlite", max_in_flight=2)
    assert out.done == 2_000
    assert most_pending <= 2 and out.peak_outstanding <= 2
    assert list(out.trials["trial_id"]) == list(range(2_000))


def test_trial_spec_is_small_and_picklable():
    import pickle

    spec = TrialSpec(3, {"fast": 5, "slow": 30}, 123, attempt=1)
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert len(pickle.dumps(spec)) < 200
