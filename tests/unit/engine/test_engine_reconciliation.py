"""The tight loop's reconciliation: books vs the venue's account, retries, EXEC-005."""

from __future__ import annotations

from typing import Any

import pytest
from backtesting.test import GOOG

from isoloop.examples.sma_cross import SmaCross
from isoloop.logging import MemorySink, make_run_logger
from isoloop.model import ReconciliationError
from isoloop.venues import SimulatedVenue
from support.harness import build, make_config, market


def wired(settlement_delay: float, **execution: Any) -> tuple[Any, MemorySink]:
    sink = MemorySink()
    log = make_run_logger(sink, run_id="recon", container_id="c1")
    cfg = make_config(**{f"execution__{k}": v for k, v in execution.items()})
    r = build(
        cfg,
        market(("GOOG", GOOG)),
        SmaCross,
        {"fast": 10, "slow": 30},
        log=log,
        venue_factory=lambda clock, lg: SimulatedVenue(
            cfg.venue, clock, lg, settlement_delay=settlement_delay
        ),
    )
    return r, sink


def events(sink: MemorySink, name: str) -> list[dict[str, Any]]:
    return [e for e in sink.records() if e["event"] == name]


def test_books_match_the_venue_after_every_order() -> None:
    r, sink = wired(0.0)
    out = r.engine.run()
    assert r.position_updates.reconciliations >= len(out.orders)
    assert r.position_updates.mismatches == 0
    assert r.execution.retries == 0
    assert r.positions.cash["sim"] == r.venue.cash
    assert r.positions.venue_positions("sim") == r.venue.positions
    assert r.clock.slept == 0.0
    assert r.execution.health().status == "healthy"
    assert not events(sink, "reconciliation_mismatch")


def test_a_lagging_account_recovers_on_retry_with_backoff_in_simulated_time() -> None:
    # Cash settles 0.25 s after a fill: retries at 0.1 s and 0.1+0.2 s → the second one agrees.
    r, sink = wired(0.25, max_retry_attempts=3, retry_delay_seconds=0.1)
    out = r.engine.run()
    fills = sum(1 for o in out.orders if o["filled"])
    assert fills > 0
    assert r.execution.retries == 2 * fills
    mism = events(sink, "reconciliation_mismatch")
    assert [e["retry_in"] for e in mism[:2]] == [0.1, 0.2]
    assert len(events(sink, "reconciliation_recovered")) == fills
    assert r.clock.slept == pytest.approx(0.3 * fills)
    assert out.equity[-1] == pytest.approx(51_422.99, abs=0.005)  # the result is unchanged
    assert r.execution.health().status == "degraded"


def test_a_mismatch_that_never_clears_fails_the_run_with_exec_005() -> None:
    r, sink = wired(1_000.0, max_retry_attempts=3, retry_delay_seconds=0.1)
    with pytest.raises(ReconciliationError) as info:
        r.engine.run()
    assert info.value.code == "EXEC-005"
    assert "after 3 retries" in str(info.value)
    assert not isinstance(info.value, SystemExit)
    failed = events(sink, "reconciliation_failed")
    assert failed and failed[0]["code"] == "EXEC-005" and failed[0]["attempts"] == 3
    assert r.clock.slept == pytest.approx(0.1 + 0.2 + 0.4)
    assert r.execution.health().status == "unhealthy"
    assert r.engine.health().status == "unhealthy"


def test_the_tight_loop_timeout_bounds_the_retries() -> None:
    r, _ = wired(1_000.0, max_retry_attempts=10, retry_delay_seconds=1.0, tight_loop_timeout=10.0)
    with pytest.raises(ReconciliationError, match="tight-loop timeout"):
        r.engine.run()
    assert r.clock.slept == pytest.approx(1 + 2 + 4)  # the next wait (8 s) would pass 10 s


def test_the_reconciliation_timeout_bounds_one_attempt_not_the_total_wait() -> None:
    # Each account read is instant, so a 4 s per-attempt bound never cuts the waits
    # short: the retries go on until the tight loop's 120 s budget.
    r, _ = wired(
        1_000.0, max_retry_attempts=10, retry_delay_seconds=1.0, reconciliation_timeout=4.0
    )
    with pytest.raises(ReconciliationError, match="tight-loop timeout"):
        r.engine.run()
    assert r.clock.slept == pytest.approx(1 + 2 + 4 + 8 + 16 + 32)  # +64 would pass 120 s
