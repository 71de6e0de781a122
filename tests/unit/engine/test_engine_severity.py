"""Severity is policy in a backtest: CRITICAL fails, HIGH is retried then ok, MEDIUM
degrades and the run goes on, LOW is logged (the same matrix runs in a paper container,
tests/live/test_severity_matrix.py)."""

from __future__ import annotations

from typing import Any

import pytest

from isoloop.errors import EngineError
from isoloop.logging import MemorySink
from support.fault_venues import run_on_faulty_venue


def run(code: str | None) -> tuple[Any, MemorySink]:
    return run_on_faulty_venue("sev", fault_code=code, fail_times=1)


def named(sink: MemorySink, event: str) -> list[dict[str, Any]]:
    return [e for e in sink.records() if e["event"] == event]


CLEAN, _ = run(None)
CLEAN_OUT = CLEAN.engine.run()


def test_critical_fails_the_run() -> None:
    r, sink = run("EXEC-003")
    with pytest.raises(EngineError) as info:
        r.engine.run()
    assert info.value.code == "EXEC-003"
    ex = r.execution.health().detail["execution"]
    assert ex["state"] == "failed" and ex["last_errors"][-1]["action"] == "failed"
    assert named(sink, "execution_failed")[0]["severity"] == "CRITICAL"
    assert not named(sink, "order_retry")


def test_high_is_retried_then_ok() -> None:
    r, sink = run("EXEC-001")
    out = r.engine.run()
    assert out.equity[-1] == pytest.approx(CLEAN_OUT.equity[-1])
    assert [o["status"] for o in out.orders] == [o["status"] for o in CLEAN_OUT.orders]
    assert [e["retry_in"] for e in named(sink, "order_retry")] == [0.1]
    ex = r.execution.health().detail["execution"]
    assert ex["state"] == "degraded" and ex["last_errors"][0]["action"] == "retried"


@pytest.mark.parametrize(
    ("code", "state", "level"),
    [("EXEC-004", "degraded", "warning"), ("EXEC-002", "healthy", "info")],
)
def test_medium_degrades_and_low_is_logged_and_the_run_goes_on(
    code: str, state: str, level: str
) -> None:
    r, sink = run(code)
    out = r.engine.run()
    first = r.execution.orders[0]
    assert first.status.value == "REJECTED" and code in (first.reason or "")
    assert sum(o["status"] == "FILLED" for o in out.orders) > 0  # later orders still trade
    assert [e["level"] for e in named(sink, "order_error")] == [level]
    ex = r.execution.health().detail["execution"]
    assert ex["state"] == state and ex["error_count"] == 1
    assert r.execution.health().status == state
    assert 0 < ex["error_rate"] < 0.5 and ex["avg_processing_ms"] > 0
