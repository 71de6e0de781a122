"""Bounded starts and builds, per-slot states and outcomes, and the one timed-call helper."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import isoloop
from isoloop.data.bars import MarketData
from isoloop.scope import (
    ComponentState,
    ScopeCoordinator,
    ScopeState,
    SharedServices,
    TimedCalls,
    call_with_timeout,
)
from isoloop.scope.lifecycle import check_transition

S = ComponentState


@pytest.fixture
def coordinator() -> Iterator[ScopeCoordinator]:
    coord = ScopeCoordinator(SharedServices(market_data=MarketData({})), stop_timeout=2.0)
    yield coord
    coord.close()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # lets every abandoned helper finish


def blueprint(tmp_path: Path, slots: dict[str, str]) -> Path:
    body = "slots:\n" + "".join(f"  {k}: support.scope_parts:{v}\n" for k, v in slots.items())
    path = tmp_path / "bp.yaml"
    path.write_text(body)
    return path


def test_a_start_that_hangs_is_abandoned_named_by_its_slot_and_stopped(
    coordinator: ScopeCoordinator, tmp_path: Path, release: threading.Event
) -> None:
    bp = blueprint(
        tmp_path, {"clock": "Clock", "bus": "Bus", "hang": "HangingStart", "after": "AfterHang"}
    )
    journal: list[str] = []
    run = coordinator.create(bp, config={"journal": journal, "release": release})
    run.initialize()
    began = time.monotonic()
    with pytest.raises(TimeoutError, match=r"start of module 'hang' did not finish within 0\.2s"):
        run.start(timeout=0.2)
    assert time.monotonic() - began < 10
    assert run.state is S.FAILED
    # What started is stopped in reverse, the hung slot first (it may hold what it acquired);
    # the slot after it never started and is not stopped.
    assert [o.name for o in run.stop_outcomes] == ["hang", "bus", "clock"]
    assert journal == [
        "start:Clock",
        "start:Bus",
        "start:HangingStart",
        "stop:HangingStart",
        "stop:Bus",
        "stop:Clock",
    ]
    assert dict(run.slot_states) == {
        "clock": S.STOPPED,
        "bus": S.STOPPED,
        "hang": S.FORCED,
        "after": S.INITIALIZED,
    }
    run.dispose()
    assert run.slot_states["hang"] == "forced"  # the record outlives disposal


def test_a_failing_start_is_not_stopped_and_marks_its_slot_failed(
    coordinator: ScopeCoordinator, tmp_path: Path
) -> None:
    bp = blueprint(tmp_path, {"clock": "Clock", "bus": "Bus", "boom": "FailingStart"})
    journal: list[str] = []
    with coordinator.scope(bp, config={"journal": journal}) as run:
        with pytest.raises(RuntimeError, match="start failed on purpose"):
            run.start(timeout=5.0)
        assert run.slot_states["boom"] is S.FAILED
        assert [o.name for o in run.stop_outcomes] == ["bus", "clock"]
    assert "stop:FailingStart" not in journal


def test_components_without_start_are_stopped_and_every_slot_reports_its_outcome(
    coordinator: ScopeCoordinator, tmp_path: Path
) -> None:
    bp = blueprint(
        tmp_path,
        {"clock": "Clock", "only": "StopOnly", "bad": "FailingStop", "hang": "HangingStop"},
    )
    journal: list[str] = []
    coordinator.stop_timeout = 0.2
    run = coordinator.create(bp, config={"journal": journal})
    run.initialize().start(timeout=5.0)
    assert set(run.slot_states.values()) == {S.STARTED}
    with pytest.raises(ExceptionGroup) as info:
        run.stop()
    assert len(info.value.exceptions) == 2
    assert "stop:StopOnly" in journal
    assert dict(run.slot_states) == {
        "clock": S.STOPPED,
        "only": S.STOPPED,
        "bad": S.STOP_FAILED,
        "hang": S.FORCED,
    }
    outcomes = {o.name: o for o in run.stop_outcomes}
    assert outcomes["hang"].timed_out and "stop of module 'hang'" in str(outcomes["hang"].error)
    assert not outcomes["bad"].timed_out and outcomes["bad"].error is not None
    assert outcomes["only"].error is None
    run.dispose()


def test_a_build_that_hangs_fails_the_scope_within_its_timeout(
    coordinator: ScopeCoordinator, tmp_path: Path, release: threading.Event
) -> None:
    bp = blueprint(tmp_path, {"clock": "Clock", "slow": "HangingBuild"})
    run = coordinator.create(bp, config={"journal": [], "release": release})
    began = time.monotonic()
    with pytest.raises(TimeoutError, match="building the modules of run"):
        run.initialize(timeout=0.2)
    assert time.monotonic() - began < 10
    assert run.state is S.FAILED
    run.close()
    assert run.state is S.DISPOSED
    release.set()
    # The coordinator still builds scopes of the same blueprint.
    with coordinator.scope(bp, config={"journal": [], "release": release}) as again:
        again.start()
        assert again.state is S.RUNNING


def test_one_state_enum_for_scopes_containers_and_slots() -> None:
    assert ScopeState is ComponentState and isoloop.ScopeState is ComponentState
    assert [s.value for s in S] == [
        "created",
        "initializing",
        "initialized",
        "started",
        "running",
        "paused",
        "stopping",
        "stopped",
        "stop_failed",
        "forced",
        "failed",
        "disposed",
    ]
    assert check_transition(S.RUNNING, S.PAUSED) and check_transition(S.PAUSED, S.RUNNING)
    assert check_transition(S.STOPPING, S.STOPPED)
    assert not check_transition(S.STOPPED, S.RUNNING)
    assert not check_transition(S.STOPPING, S.INITIALIZED)  # stopping wins over a late init
    assert not check_transition(S.DISPOSED, S.CREATED)
    # Slot-only states are never a scope's.
    assert not any(check_transition(s, t) for s in S for t in (S.STARTED, S.FORCED))


# -- the timed-call helper ----------------------------------------------------------------


def _timed_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "isoloop-timed"]


def test_ordered_calls_all_run_and_a_hung_one_is_abandoned(release: threading.Event) -> None:
    calls = TimedCalls()
    ran: list[str] = []

    def boom() -> None:
        ran.append("boom")
        raise ValueError("boom")

    before = len(_timed_threads())
    outcomes = calls.run(
        [
            ("a", lambda: ran.append("a")),
            ("hang", lambda: release.wait(60)),
            ("boom", boom),
            ("c", lambda: ran.append("c")),
        ],
        0.2,
        label="stop of {name}",
    )
    assert [(o.name, o.timed_out) for o in outcomes] == [
        ("a", False),
        ("hang", True),
        ("boom", False),
        ("c", False),
    ]
    assert str(outcomes[1].error) == "stop of hang did not finish within 0.2s"
    assert isinstance(outcomes[2].error, ValueError) and outcomes[3].error is None
    assert ran == ["a", "boom", "c"]  # nothing ran twice once the hang ended
    release.set()
    calls.close()
    deadline = time.monotonic() + 10
    while len(_timed_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(_timed_threads()) <= before  # the abandoned helper exited too
    assert ran == ["a", "boom", "c"]


def test_a_late_call_can_be_reported_and_waited_for() -> None:
    calls = TimedCalls()
    late: list[str] = []
    outcome = calls.run([("slow", lambda: time.sleep(0.3))], 0.05, on_late=late.append)[0]
    calls.close()
    assert late == ["slow"]  # once, not once per timeout period
    assert outcome.error is None and not outcome.timed_out


def test_parallel_calls_share_one_deadline(release: threading.Event) -> None:
    calls = TimedCalls()
    began = time.monotonic()
    outcomes = calls.run_parallel(
        [(f"c{i}", lambda: release.wait(60)) for i in range(3)] + [("ok", lambda: None)], 1.0
    )
    elapsed = time.monotonic() - began
    calls.close()
    assert [o.timed_out for o in outcomes] == [True, True, True, False]
    # One deadline for all: a timeout each would take ≥ 3 s; the 2 s between leave room
    # for a loaded machine's scheduling delays.
    assert elapsed < 1.0 * 3


def test_a_single_call_raises_its_error_or_a_timeout(release: threading.Event) -> None:
    def fail() -> Any:
        raise KeyError("x")

    with pytest.raises(KeyError):
        call_with_timeout(fail, 1.0, "failing")
    with pytest.raises(TimeoutError, match=r"stuck did not finish within 0\.1s"):
        call_with_timeout(lambda: release.wait(60), 0.1, "stuck")
