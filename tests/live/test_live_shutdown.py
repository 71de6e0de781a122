"""Graceful shutdown: loop first, in-flight work bounded, modules in reverse order with timeouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoloop.live import LiveTradingManager
from support.live_helpers import live_config, state_of, strategy, wait_for

pytestmark = pytest.mark.live

PAPER = Path(__file__).resolve().parents[2] / "containers" / "paper.yaml"


def _blueprint(tmp_path: Path, record: Path, hang: float, hang_start: float = 0.0) -> Path:
    text = PAPER.read_text(encoding="utf-8")
    extra = (
        f"  first:\n    class: support.live_parts:FirstModule\n"
        f"    args: {{label: first, record: '{record}'}}\n"
        f"  middle:\n    class: support.live_parts:MiddleModule\n"
        f"    args: {{label: middle, record: '{record}', hang: {hang}, hang_start: {hang_start}}}\n"
        f"  last:\n    class: support.live_parts:LastModule\n"
        f"    args: {{label: last, record: '{record}'}}\n"
    )
    path = tmp_path / "traced.yaml"
    path.write_text(text.replace("name: paper", "name: traced") + extra, encoding="utf-8")
    return path


def test_modules_stop_in_reverse_order_and_a_hung_one_is_forced(tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    bp = _blueprint(tmp_path, record, hang=30.0)
    cfg = live_config(
        tmp_path / "state",
        [strategy("s", container=str(bp))],
        bars=50,
        shutdown={"drain_timeout": 5.0, "module_timeout": 0.3, "init_timeout": 10.0},
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.wait_settled(60)
        c = m.container("s")
        init_order = list(c.init_order)
        c.stop()
        st = state_of(m, "s")
    # Dependency order: each traced module comes after the slot it needs.
    assert init_order.index("clock") < init_order.index("first")
    assert init_order.index("store") < init_order.index("middle")
    assert init_order.index("engine") < init_order.index("last")
    traced = [s for s in init_order if s in {"first", "middle", "last"}]
    with_stop = [
        s for s in reversed(init_order) if s in {"first", "middle", "last", "store", "bus", "venue"}
    ]
    assert c.stop_order == with_stop
    lines = record.read_text(encoding="utf-8").splitlines()
    starts = [ln for ln in lines if ln.startswith("start")]
    stops = [ln for ln in lines if ln.startswith("stop")]
    assert starts == [f"start {s}" for s in traced]
    assert stops == [f"stop {s}" for s in reversed(traced)]
    assert "unhung middle" not in lines
    assert st["state"] == "stopped"
    assert st["health"]["middle"] == "forced"
    # The rest still stopped after the hung one was abandoned.
    for slot in ("last", "venue", "store", "bus", "first"):
        assert st["health"][slot] == "stopped", slot


def test_in_flight_work_past_the_drain_timeout_is_forced(tmp_path: Path) -> None:
    release = tmp_path / "never"
    cfg = live_config(
        tmp_path / "state",
        [
            strategy(
                "stuck",
                "support.live_strategies:BlockingModel",
                {"fast": 5, "slow": 20, "block_bar": 30, "release": str(release), "max_block": 30},
            ),
            strategy("fine"),
        ],
        bars=100,
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        wait_for(lambda: state_of(m, "fine")["last_bar"] == 99, what="fine done")
        m.container("stuck").stop(drain_timeout=0.2)
        stuck = state_of(m, "stuck")
        assert stuck["state"] == "stopped"
        assert stuck["forced"] is True
        assert stuck["last_bar"] == 29
        assert stuck["health"]["store"] == "stopped"
        assert state_of(m, "fine")["state"] == "running"


def test_a_module_that_hangs_in_init_fails_its_container_only(tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    bp = _blueprint(tmp_path, record, hang=0.0, hang_start=30.0)
    cfg = live_config(
        tmp_path / "state",
        [strategy("hangs", container=str(bp)), strategy("fine")],
        bars=50,
        shutdown={"drain_timeout": 5.0, "module_timeout": 1.0, "init_timeout": 0.3},
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.wait_settled(60)
        hangs, fine = state_of(m, "hangs"), state_of(m, "fine")
    assert hangs["state"] == "failed"
    assert "start of module 'middle' did not finish within 0.3s" in hangs["error"]
    # Per module: the hung start is reported by its slot; what started before it stopped.
    assert hangs["health"]["middle"] == "forced"
    assert hangs["health"]["first"] == hangs["health"]["store"] == "stopped"
    # Modules started before it were stopped again, in reverse order.
    lines = record.read_text(encoding="utf-8").splitlines()
    assert lines[-1] == "stop first" and "stop middle" in lines
    assert fine["state"] == "running" and fine["last_bar"] == 49
