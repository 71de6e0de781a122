"""Private components are never shared between scopes; shared data is read-only."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from backtesting.test import GOOG

from isoloop.data.bars import Bars, MarketData
from isoloop.logging import MemorySink
from isoloop.scope import ScopeCoordinator, SharedServices, freeze

STANDARD = Path(__file__).parents[1] / "support" / "blueprints" / "standard.yaml"


@pytest.fixture(scope="module")
def shared() -> SharedServices:
    return SharedServices(market_data=MarketData({"GOOG": Bars.from_frame(GOOG, "GOOG")}))


def test_many_sequential_scopes_never_share_a_component(shared: SharedServices) -> None:
    coord = ScopeCoordinator(shared)
    seen: list[object] = []  # keeps every component alive so ids cannot be recycled
    for _ in range(200):
        with coord.scope(STANDARD, config={"journal": []}) as run:
            run.start()
            seen.extend(c for _, c in run.components())
    assert len({id(c) for c in seen}) == len(seen) == 200 * 10


def test_concurrent_scopes_on_threads_are_disjoint(shared: SharedServices) -> None:
    coord = ScopeCoordinator(shared)
    n = 8
    barrier = threading.Barrier(n)
    found: dict[int, list[object]] = {}
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            with coord.scope(STANDARD, config={"journal": []}, run_id=f"t{i}") as run:
                run.start()
                found[i] = [c for _, c in run.components()]
                barrier.wait(timeout=30)  # every scope is alive at the same moment
                assert run.get("engine").run_id == f"t{i}"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    everything = [c for comps in found.values() for c in comps]
    assert len({id(c) for c in everything}) == len(everything) == n * 10


def test_shared_market_data_is_the_same_object_in_every_scope(shared: SharedServices) -> None:
    coord = ScopeCoordinator(shared)
    seen = []
    for _ in range(3):
        with coord.scope(STANDARD, config={"journal": []}) as run:
            seen.append(run.get("venue").market_data)
    assert all(md is shared["market_data"] for md in seen)


def test_writing_to_shared_data_raises(shared: SharedServices) -> None:
    coord = ScopeCoordinator(shared)
    with coord.scope(STANDARD, config={"journal": []}) as run:
        bars = run.get("strategy").market_data["GOOG"]
        before = bars.close[0]
        with pytest.raises(ValueError, match="read-only"):
            bars.close[0] = 0.0
        frame = bars.to_frame()
        with pytest.raises(ValueError, match="read-only"):
            frame.iloc[0, 0] = 0.0
        with pytest.raises((AttributeError, TypeError)):
            bars.close = np.zeros(3)  # type: ignore[misc]
        with pytest.raises(TypeError):
            run.get("strategy").market_data._bars["X"] = bars  # mapping proxy
    assert bars.close[0] == before


def test_freeze_makes_plain_containers_read_only() -> None:
    arr = np.arange(5.0)
    frozen = freeze({"a": arr, "b": [1, 2]})
    with pytest.raises(ValueError):
        frozen["a"][0] = 9
    with pytest.raises(TypeError):
        frozen["c"] = 1
    assert frozen["b"] == (1, 2)


def test_threads_never_mix_run_ids_in_logs(shared: SharedServices) -> None:
    coord = ScopeCoordinator(shared)
    sinks = {i: MemorySink() for i in range(4)}

    def worker(i: int) -> None:
        with coord.scope(
            STANDARD, config={"journal": []}, run_id=f"run-{i}", log_sink=sinks[i]
        ) as run:
            for k in range(300):
                run.log.info("tick", k=k)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, sink in sinks.items():
        records = sink.records()
        ticks = [r for r in records if r["event"] == "tick"]
        assert len(ticks) == 300
        assert {r["run_id"] for r in records} == {f"run-{i}"}
        assert len({r["container_id"] for r in records}) == 1
    containers = {sinks[i].records()[0]["container_id"] for i in sinks}
    assert len(containers) == 4
