"""EXEC-008: a venue answer that does not match its order fails the run before the
books apply it; the kill switch has its own code (RISK-001)."""

from __future__ import annotations

from typing import Any

import pytest

from isoloop.errors import ERROR_CODES, InvalidHandshake
from isoloop.logging import MemorySink
from support.fault_venues import run_on_faulty_venue


def run(corrupt: str | None) -> tuple[Any, MemorySink]:
    return run_on_faulty_venue("hs", corrupt=corrupt)


@pytest.mark.parametrize(
    ("corrupt", "problem"),
    [
        ("order_id", "order id 'O9999999' is not 'O0000001'"),
        ("price", "is not a positive number"),
        ("overfill", "is over the order's"),
    ],
)
def test_a_handshake_that_does_not_match_its_order_fails_the_run(
    corrupt: str, problem: str
) -> None:
    r, sink = run(corrupt)
    with pytest.raises(InvalidHandshake, match=problem) as info:
        r.engine.run()
    assert info.value.code == "EXEC-008" and info.value.severity.value == "CRITICAL"
    # Nothing of the bad answer reached the books: no position, the starting cash.
    assert r.positions.venue_positions("sim") in ({}, {"sim:spot:GOOG": 0.0})
    assert r.positions.cash["sim"] == 10_000.0
    failed = [e for e in sink.records() if e["event"] == "execution_failed"]
    assert [e["code"] for e in failed] == ["EXEC-008"]
    assert r.execution.health().status == "unhealthy"


def test_honest_answers_pass_the_handshake_checks() -> None:
    r, sink = run(None)
    out = r.engine.run()
    assert sum(o["status"] == "FILLED" for o in out.orders) > 2
    assert not [e for e in sink.records() if e["event"] == "execution_failed"]


def test_the_kill_switch_trips_under_its_own_code() -> None:
    r, sink = run(None)
    r.risk.trip("HALTED", "test", by="operator")
    trips = [e for e in sink.records() if e["event"] == "kill_switch"]
    assert [e["code"] for e in trips] == ["RISK-001"]
    assert ERROR_CODES["RISK-001"].title == "kill switch engaged"
    assert ERROR_CODES["EXEC-008"].title == "invalid handshake"
