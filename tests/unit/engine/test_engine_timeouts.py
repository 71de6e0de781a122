"""Every execution knob acts: changing it changes the run's outcome as docs/errors.md says.

Time is the backtest's simulated clock: the fault venue's latency and the
retries' backoff advance it, never the wall clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from backtesting.test import GOOG

from isoloop.config.loading import load_run_config
from isoloop.errors import ConfigError, EngineError, ExecutionTimeout, ReconciliationError
from isoloop.examples.sma_cross import SmaCross
from isoloop.logging import MemorySink, make_run_logger
from isoloop.venues import SimulatedVenue
from support.fault_venues import FaultySimVenue
from support.harness import build, make_config, market

MD = market(("GOOG", GOOG.iloc[:300]))


def run(
    faults: dict[str, Any], settlement: float = 0.0, **execution: Any
) -> tuple[Any, MemorySink]:
    sink = MemorySink()
    log = make_run_logger(sink, run_id="knobs", container_id="c1")
    cfg = make_config(**{f"execution__{k}": v for k, v in execution.items()})

    def venue(clock: Any, lg: Any) -> Any:
        if settlement:
            return SimulatedVenue(cfg.venue, clock, lg, settlement_delay=settlement)
        return FaultySimVenue(cfg.venue, clock, lg, **faults)

    r = build(cfg, MD, SmaCross, {"fast": 10, "slow": 30}, log=log, venue_factory=venue)
    return r, sink


def baseline() -> float:
    """The final equity with a venue that never misbehaves."""
    r, _ = run({})
    return float(r.engine.run().equity[-1])


EQUITY = baseline()


def named(sink: MemorySink, event: str) -> list[dict[str, Any]]:
    return [e for e in sink.records() if e["event"] == event]


def test_execution_timeout_fails_an_order_the_venue_answers_too_late() -> None:
    # Every submission takes 1 s of the run's clock: inside the default 30 s ...
    r, _ = run({"latency": 1.0})
    out = r.engine.run()
    assert out.equity[-1] == pytest.approx(EQUITY, abs=0.005)
    assert r.execution.health().detail["execution"]["state"] == "healthy"
    # ... over a 0.5 s timeout: the first order fails the run with EXEC-007.
    r, sink = run({"latency": 1.0}, execution_timeout=0.5)
    with pytest.raises(ExecutionTimeout) as info:
        r.engine.run()
    assert info.value.code == "EXEC-007" and "O0000001" in str(info.value)
    assert named(sink, "execution_failed")[0]["code"] == "EXEC-007"
    assert r.execution.health().status == "unhealthy"


def test_a_tiny_execution_timeout_leaves_no_room_for_a_retried_submission() -> None:
    fault = {"fault_code": "EXEC-001", "fail_times": 1}
    r, sink = run(fault)
    out = r.engine.run()  # retried after 0.1 s of simulated time, then accepted
    assert out.equity[-1] == pytest.approx(EQUITY, abs=0.005)
    assert [e["retry_in"] for e in named(sink, "order_retry")] == [0.1]
    r, _ = run(fault, execution_timeout=1e-9)
    with pytest.raises(ExecutionTimeout, match="not acknowledged within 1e-09s"):
        r.engine.run()
    assert r.execution.orders[0].status.value == "REJECTED"


def test_max_retry_attempts_decides_whether_a_failing_submission_recovers() -> None:
    fault = {"fault_code": "EXEC-001", "fail_times": 2}
    r, sink = run(fault, max_retry_attempts=2)
    out = r.engine.run()
    assert out.equity[-1] == pytest.approx(EQUITY, abs=0.005)
    assert [e["retry_in"] for e in named(sink, "order_retry")] == [0.1, 0.2]
    assert r.clock.slept == pytest.approx(0.3)
    r, sink = run(fault, max_retry_attempts=1)
    with pytest.raises(EngineError) as info:
        r.engine.run()
    assert info.value.code == "EXEC-001"
    assert len(named(sink, "order_retry")) == 1
    assert r.execution.health().detail["execution"]["state"] == "failed"


def test_reconciliation_timeout_bounds_one_attempt_not_the_total() -> None:
    # Three account reads take 5 s each (15 s in all): each is inside the default 10 s.
    r, _ = run({"account_latency": 5.0, "slow_reads": 3})
    out = r.engine.run()
    assert r.execution.retries == 0
    assert out.equity[-1] == pytest.approx(EQUITY, abs=0.005)
    # Under a 2 s bound each slow read is a failed attempt, retried with backoff.
    r, sink = run({"account_latency": 5.0, "slow_reads": 3}, reconciliation_timeout=2.0)
    out = r.engine.run()
    mismatches = named(sink, "reconciliation_mismatch")
    assert r.execution.retries == len(mismatches) == 3  # one per slow read
    assert all("over execution.reconciliation_timeout 2s" in m["problems"][-1] for m in mismatches)
    assert out.equity[-1] == pytest.approx(EQUITY, abs=0.005)
    assert r.execution.health().status == "degraded"
    # A read that is always slow fails the run once the retries run out.
    r, _ = run({"account_latency": 5.0, "slow_reads": 1000}, reconciliation_timeout=2.0)
    with pytest.raises(ReconciliationError, match="after 3 retries"):
        r.engine.run()


def test_tight_loop_timeout_bounds_the_whole_loop_of_an_order() -> None:
    # Cash settles 0.25 s after a fill: retries at +0.1 s and +0.3 s recover within 120 s ...
    r, _ = run({}, settlement=0.25)
    assert r.engine.run().equity[-1] == pytest.approx(EQUITY, abs=0.005)
    # ... not within 0.2 s: the second wait would end past it.
    r, sink = run({}, settlement=0.25, tight_loop_timeout=0.2)
    with pytest.raises(ReconciliationError, match="tight-loop timeout") as info:
        r.engine.run()
    assert info.value.code == "EXEC-005"
    assert named(sink, "reconciliation_failed")[0]["attempts"] == 1


def test_tight_loop_timeout_counts_the_submission_too() -> None:
    # The first order's loop: the venue answers after 1 s, the first account read takes
    # 5 s (over a 2 s reconciliation timeout: a failed attempt), the retry after 0.1 s
    # agrees. 5.1 s without the submission fit in 6.05 s; 6.1 s with it do not.
    slow = {"account_latency": 5.0, "slow_reads": 1}
    r, _ = run(slow, reconciliation_timeout=2.0, tight_loop_timeout=6.05)
    r.engine.run()
    assert r.execution.retries == 1
    r, sink = run({**slow, "latency": 1.0}, reconciliation_timeout=2.0, tight_loop_timeout=6.05)
    with pytest.raises(ReconciliationError, match="tight-loop timeout"):
        r.engine.run()
    assert named(sink, "reconciliation_failed")[0]["waited"] == pytest.approx(6.0)


@pytest.mark.parametrize(
    ("key", "value", "bound"),
    [
        ("execution_timeout", "301", "less than or equal to 300"),
        ("execution_timeout", "0", "greater than 0"),
        ("reconciliation_timeout", "61", "less than or equal to 60"),
        ("max_retry_attempts", "0", "greater than or equal to 1"),
        ("max_retry_attempts", "11", "less than or equal to 10"),
    ],
)
def test_the_execution_documents_bounds_are_one_error_line_naming_the_key(
    tmp_path: Path, key: str, value: str, bound: str
) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(
        "strategy: {class: 'isoloop.examples.sma_cross:SmaCross'}\n"
        "data: {source: 'sample:GOOG'}\n"
        f"execution: {{{key}: {value}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_run_config(config)
    message = str(info.value)
    assert "\n" not in message
    assert f"execution.{key}" in message and bound in message and str(config) in message
