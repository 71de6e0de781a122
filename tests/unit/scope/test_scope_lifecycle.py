"""Init order, teardown order, failure containment and disposal of run scopes."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from pathlib import Path

import pytest

from isoloop.data.bars import MarketData
from isoloop.scope import ScopeCoordinator, ScopeState, SharedServices, load_blueprint

BLUEPRINTS = Path(__file__).parents[2] / "support" / "blueprints"
STANDARD = BLUEPRINTS / "standard.yaml"
DEPS = {
    "Clock": set(),
    "Bus": {"Clock"},
    "Venue": {"Clock", "Bus"},
    "Positions": {"Bus"},
    "PositionUpdates": {"Positions", "Venue"},
    "VenueManager": {"Venue"},
    "Risk": {"Positions"},
    "Execution": {"VenueManager", "PositionUpdates", "Risk", "Clock"},
    "Strategy": {"Execution"},
    "Engine": {"Strategy", "Execution", "Clock"},
}


@pytest.fixture
def coordinator() -> ScopeCoordinator:
    coord = ScopeCoordinator(SharedServices(market_data=MarketData({})), stop_timeout=0.5)
    yield coord
    coord.close()


def write_blueprint(tmp_path: Path, body: str, name: str = "bp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def test_init_order_follows_constructor_dependencies(coordinator: ScopeCoordinator) -> None:
    journal: list[str] = []
    with coordinator.scope(STANDARD, config={"journal": journal}) as run:
        run.start()
        order = [e.split(":")[1] for e in journal if e.startswith("start:")]
    # The blueprint lists slots in reverse dependency order; each must start after its deps.
    assert sorted(order) == sorted(DEPS)
    for i, name in enumerate(order):
        assert DEPS[name] <= set(order[:i]), f"{name} started before {DEPS[name]}"
    assert next(iter(run.init_order)) == "clock"


def test_teardown_is_the_reverse_of_start(coordinator: ScopeCoordinator) -> None:
    journal: list[str] = []
    with coordinator.scope(STANDARD, config={"journal": journal}) as run:
        run.start()
    starts = [e.split(":")[1] for e in journal if e.startswith("start:")]
    stops = [e.split(":")[1] for e in journal if e.startswith("stop:")]
    assert stops == list(reversed(starts))
    assert run.state is ScopeState.DISPOSED


def test_states_progress_and_disposed_scope_refuses_use(coordinator: ScopeCoordinator) -> None:
    run = coordinator.create(STANDARD, config={"journal": []})
    assert run.state is ScopeState.CREATED
    run.initialize()
    assert run.state is ScopeState.INITIALIZED
    run.start()
    assert run.state is ScopeState.RUNNING
    run.stop()
    assert run.state is ScopeState.STOPPED
    run.dispose()
    assert run.state is ScopeState.DISPOSED
    with pytest.raises(Exception, match="disposed"):
        run.get("engine")


def test_failing_teardown_does_not_stop_the_others(
    coordinator: ScopeCoordinator, tmp_path: Path
) -> None:
    bp = write_blueprint(
        tmp_path,
        """
slots:
  clock: support.scope_parts:Clock
  bad_one: support.scope_parts:FailingStop
  bad_two: support.scope_parts:FailingStop
  bus: support.scope_parts:Bus
""",
    )
    journal: list[str] = []
    run = coordinator.create(bp, config={"journal": journal})
    run.initialize().start()
    with pytest.raises(ExceptionGroup) as info:
        run.close()
    # Both failures surface, and every component's stop ran, including those after them.
    assert len(info.value.exceptions) == 2
    assert all("stop failed on purpose" in str(e) for e in info.value.exceptions)
    assert sorted(e for e in journal if e.startswith("stop:")) == sorted(
        ["stop:Clock", "stop:FailingStop", "stop:FailingStop", "stop:Bus"]
    )
    assert run.state is ScopeState.DISPOSED


def test_hung_teardown_times_out_and_the_rest_still_stop(
    coordinator: ScopeCoordinator, tmp_path: Path
) -> None:
    bp = write_blueprint(
        tmp_path,
        """
slots:
  clock: support.scope_parts:Clock
  hang: support.scope_parts:HangingStop
  bus: support.scope_parts:Bus
""",
    )
    journal: list[str] = []
    run = coordinator.create(bp, config={"journal": journal})
    run.initialize().start()
    stop_order = list(reversed(run.init_order))
    started = time.monotonic()
    with pytest.raises(ExceptionGroup) as info:
        run.close()
    assert time.monotonic() - started < 30  # bounded, not hung for the hour it sleeps
    assert [type(e) for e in info.value.exceptions] == [TimeoutError]
    assert "hang" in str(info.value.exceptions[0].__notes__)
    stops = [e for e in journal if e.startswith("stop:")]
    assert len(stops) == len(stop_order)  # the ones after the hung stop ran too
    # A second scope on the same coordinator is unaffected by the abandoned thread.
    with coordinator.scope(STANDARD, config={"journal": []}) as again:
        again.start()


def test_start_failure_marks_failed_and_stops_what_started(
    coordinator: ScopeCoordinator, tmp_path: Path
) -> None:
    bp = write_blueprint(
        tmp_path,
        """
slots:
  clock: support.scope_parts:Clock
  bus: support.scope_parts:Bus
  boom: support.scope_parts:FailingStart
""",
    )
    journal: list[str] = []
    with pytest.raises(RuntimeError, match="start failed"):  # noqa: SIM117
        with coordinator.scope(bp, config={"journal": journal}) as run:
            run.start()
    assert run.state is ScopeState.DISPOSED
    assert journal[-2:] == ["stop:Bus", "stop:Clock"]


def test_context_manager_disposes_when_the_body_raises(coordinator: ScopeCoordinator) -> None:
    journal: list[str] = []
    with pytest.raises(ZeroDivisionError):  # noqa: SIM117
        with coordinator.scope(STANDARD, config={"journal": journal}) as run:
            run.start()
            _ = 1 / 0
    assert run.state is ScopeState.DISPOSED
    assert sum(e.startswith("stop:") for e in journal) == len(DEPS)


def test_nothing_of_a_run_is_reachable_after_disposal(coordinator: ScopeCoordinator) -> None:
    refs = []
    for _ in range(3):
        with coordinator.scope(STANDARD, config={"journal": []}) as run:
            run.start()
            refs.extend(weakref.ref(c) for _, c in run.components())
    gc.collect()
    assert refs and all(r() is None for r in refs)


def test_health_aggregates_components(coordinator: ScopeCoordinator) -> None:
    with coordinator.scope(STANDARD, config={"journal": []}) as run:
        h = run.health()
    assert h.status == "healthy"
    assert set(h.detail) == set(run.init_order)


def test_each_slot_is_one_instance_per_run(coordinator: ScopeCoordinator) -> None:
    with coordinator.scope(STANDARD, config={"journal": []}) as run:
        # The container's provider for a slot returns the run's one instance, the same
        # object every dependent received.
        assert run.container.clock() is run.get("clock")
        assert run.get("bus").clock is run.get("clock") is run.get("engine").clock
        assert run.get("execution").venues.venue is run.get("venue")


def test_run_values_are_injected(coordinator: ScopeCoordinator) -> None:
    with coordinator.scope(STANDARD, config={"journal": []}, run_id="abc") as run:
        assert run.get("engine").run_id == "abc"
        assert run.get("execution").log is run.log


def test_blueprint_is_loaded_once_per_coordinator(coordinator: ScopeCoordinator) -> None:
    assert coordinator.blueprint(STANDARD) is coordinator.blueprint(STANDARD)
    assert load_blueprint(STANDARD) is not load_blueprint(STANDARD)


def test_threads_see_their_own_scope(coordinator: ScopeCoordinator) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(50):
                with coordinator.scope(STANDARD, config={"journal": []}) as run:
                    run.start()
                    assert run.get("engine").execution is run.get("execution")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
