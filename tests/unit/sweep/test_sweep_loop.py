"""The one scheduling loop every executor shares, driven by a scripted in-memory backend.

Real executors are exercised end to end elsewhere (tests/fault, tests/distributed);
here each rule of the loop is checked on its own: lazy pulling under the cap,
crash → retry → "crashed", timeout → kill → "timeout", engine failure → "error",
trial-id order within one batch, and cancel on abandon.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from isoloop.sweep import TrialSpec
from isoloop.sweep.executors import loop
from isoloop.sweep.executors.loop import (
    Event,
    Finished,
    LoopExecutor,
    Started,
    TaskFailed,
    WorkerDied,
)
from isoloop.sweep.spec import TrialResult


def _ok(spec: TrialSpec) -> TrialResult:
    return TrialResult(spec.trial_id, "ok", {"x": 1.0}, None, spec.attempt + 1, "fake:1")


class Scripted(LoopExecutor[int]):
    """Submitted trials finish, die, fail or hang as the script says for (id, attempt)."""

    name = "scripted"

    def __init__(self, script: dict[tuple[int, int], str], cap: int = 2) -> None:
        self.workers = cap
        self.script = script
        self.started: list[tuple[Any, Any]] = []
        self.submitted: list[tuple[int, int]] = []
        self.killed: list[int] = []
        self.cancelled: list[int] = []
        self.most_running = 0
        self.finished = 0
        self._running: dict[int, TrialSpec] = {}

    def share(self, data: Any) -> Any:
        return data

    def start(self, fn: Any, handle: Any, context: Any) -> None:
        self.started.append((handle, context))

    def in_flight_cap(self, max_in_flight: int | None, timeout_s: float | None) -> int:
        return max_in_flight or self.workers

    def submit(self, spec: TrialSpec) -> int:
        self.submitted.append((spec.trial_id, spec.attempt))
        self._running[spec.trial_id] = spec
        self.most_running = max(self.most_running, len(self._running))
        return spec.trial_id

    def wait_any(self, tickets: Sequence[int], timeout_s: float | None) -> list[Event[int]]:
        events: list[Event[int]] = []
        for ticket in reversed(tickets):  # completion order differs from submission order
            spec = self._running[ticket]
            what = self.script.get((spec.trial_id, spec.attempt), "ok")
            if what == "hang":
                continue
            del self._running[ticket]
            if what == "die":
                events.append(WorkerDied(ticket, "fake:2", "worker 2 died (exit code -9)"))
            elif what == "fail":
                events.append(TaskFailed(ticket, "fake", RuntimeError("cannot pickle\nmore")))
            else:
                events.append(Finished(ticket, _ok(spec)))
        if not events and timeout_s is not None:
            time.sleep(timeout_s)
        return events

    def worker_of(self, ticket: int) -> str:
        return "fake:3"

    def kill(self, ticket: int) -> str:
        self.killed.append(ticket)
        del self._running[ticket]
        return "fake worker killed"

    def cancel(self, ticket: int) -> None:
        self.cancelled.append(ticket)

    def finish(self) -> None:
        self.finished += 1


def _specs(n: int) -> Iterator[TrialSpec]:
    return (TrialSpec(i, {"a": i}, 100 + i) for i in range(n))


def _fn(spec: TrialSpec, data: Any, context: Any) -> None:
    return None


def test_every_trial_once_in_trial_id_order_per_batch_and_at_most_cap_running() -> None:
    backend = Scripted({}, cap=3)
    results = list(backend.map(_fn, _specs(7), "handle", context={"k": 1}, max_in_flight=3))
    assert [r.trial_id for r in results] == list(range(7))
    assert backend.most_running == 3
    assert backend.started == [("handle", {"k": 1})] and backend.finished == 1


def test_nothing_to_run_starts_nothing() -> None:
    backend = Scripted({})
    assert list(backend.map(_fn, _specs(0), "handle")) == []
    assert backend.started == []


def test_a_dead_worker_trial_is_resubmitted_then_recorded_crashed() -> None:
    backend = Scripted({(1, 0): "die", (2, 0): "die", (2, 1): "die"})
    results = {r.trial_id: r for r in backend.map(_fn, _specs(4), None, retries=1)}
    assert sorted(results) == [0, 1, 2, 3]
    assert results[1].status == "ok" and results[1].attempts == 2
    assert results[2].status == "crashed" and results[2].attempts == 2
    assert results[2].worker == "fake:2"
    assert results[2].error == "worker 2 died (exit code -9) (attempt 2; retries exhausted)"
    assert backend.submitted.count((1, 1)) == 1 and (3, 1) not in backend.submitted


def test_an_overrunning_trial_is_killed_and_recorded_timeout() -> None:
    backend = Scripted({(2, 0): "hang"})
    results = {r.trial_id: r for r in backend.map(_fn, _specs(4), None, timeout_s=0.05)}
    assert backend.killed == [2]
    assert results[2].status == "timeout" and results[2].worker == "fake:3"
    assert results[2].error == "trial exceeded trial_timeout=0.05s; fake worker killed"
    assert all(results[i].status == "ok" for i in (0, 1, 3))


def test_a_trial_the_engine_cannot_run_is_an_error() -> None:
    backend = Scripted({(0, 0): "fail"})
    first = next(iter(backend.map(_fn, _specs(1), None)))
    assert first.status == "error" and first.error == "RuntimeError: cannot pickle"


def test_abandoning_the_map_cancels_what_still_runs() -> None:
    backend = Scripted({(0, 0): "hang"}, cap=2)
    results = backend.map(_fn, _specs(5), None)
    assert next(results).trial_id == 1
    results.close()
    assert backend.cancelled == [0]  # trial 2 was never submitted: specs are pulled lazily
    assert backend.finished == 1


@pytest.mark.parametrize("context", [None, {"a": [1]}])
def test_a_mapping_context_is_copied_once_per_map(context: Any) -> None:
    backend = Scripted({})
    list(backend.map(_fn, _specs(1), None, context=context))
    ((_, seen),) = backend.started
    assert seen == (context or {}) and seen is not context


class SlowStarts(LoopExecutor[int]):
    """A backend that reports starts: each trial's body begins `begin_s` after its
    submission (None: never) and then runs `run_s` (None: hangs)."""

    name = "slow-starts"
    reports_start = True

    def __init__(self, plan: dict[int, tuple[float | None, float | None]]) -> None:
        self.workers = len(plan)
        self.plan = plan
        self.submitted_at: dict[int, float] = {}
        self.begun: set[int] = set()
        self.killed: list[int] = []

    def share(self, data: Any) -> Any:
        return data

    def start(self, fn: Any, handle: Any, context: Any) -> None:
        return None

    def in_flight_cap(self, max_in_flight: int | None, timeout_s: float | None) -> int:
        return self.workers

    def submit(self, spec: TrialSpec) -> int:
        self.submitted_at[spec.trial_id] = time.monotonic()
        return spec.trial_id

    def wait_any(self, tickets: Sequence[int], timeout_s: float | None) -> list[Event[int]]:
        time.sleep(min(0.02, timeout_s or 0.02))
        now, events = time.monotonic(), []
        for ticket in tickets:
            begin, run = self.plan[ticket]
            if begin is None or now < self.submitted_at[ticket] + begin:
                continue
            if ticket not in self.begun:
                self.begun.add(ticket)
                events.append(Started(ticket))
            elif run is not None and now >= self.submitted_at[ticket] + begin + run:
                events.append(Finished(ticket, _ok(TrialSpec(ticket, {}, 0))))
        return events

    def worker_of(self, ticket: int) -> str:
        return "slow:1"

    def kill(self, ticket: int) -> str:
        self.killed.append(ticket)
        return "killed"

    def cancel(self, ticket: int) -> None:
        return None


def test_a_backend_reporting_starts_times_trials_from_their_start_not_their_submission(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loop, "START_GRACE_S", 0.6)
    plan: dict[int, tuple[float | None, float | None]] = {
        0: (0.0, 0.05),  # starts at once, quick: ok
        1: (0.5, 0.05),  # a worker slow to come up (0.5 s > the 0.3 s timeout), then quick: ok
        2: (0.0, None),  # starts at once, hangs: timeout 0.3 s after its start
        3: (None, None),  # no worker ever begins it: timeout after 0.3 + 0.6 s
    }
    backend = SlowStarts(plan)
    specs = (TrialSpec(i, {}, 0) for i in range(4))
    t0 = time.monotonic()
    results = {r.trial_id: r for r in backend.map(_fn, specs, None, timeout_s=0.3)}
    assert results[0].status == "ok" and results[1].status == "ok"
    assert results[2].status == "timeout"
    assert results[2].error == "trial exceeded trial_timeout=0.3s; killed"
    assert results[3].status == "timeout"
    assert "no worker began it within 0.9s" in str(results[3].error)
    assert sorted(backend.killed) == [2, 3]
    assert time.monotonic() - t0 >= 0.9
