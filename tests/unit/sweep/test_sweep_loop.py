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
from isoloop.sweep.executors.loop import Event, Finished, LoopExecutor, TaskFailed, WorkerDied
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
