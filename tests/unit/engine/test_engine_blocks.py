"""Instruction blocks across two venues: all legs fill, or filled legs are unwound (EXEC-006)."""

from __future__ import annotations

from typing import Any

import pytest
from backtesting.test import GOOG

from isoloop.backtest import RunOutput
from isoloop.config.models import VenueConfig
from isoloop.errors import AtomicGroupError
from isoloop.examples.basis import BasisTrade
from isoloop.logging import MemorySink, make_run_logger
from isoloop.model import StrategyParamError
from isoloop.scope import ScopeCoordinator, SharedServices, load_blueprint
from isoloop.venues import SimulatedVenue
from support.fault_venues import FaultySimVenue
from support.harness import build, make_config, market

MD = market(("GOOG", GOOG))


def run_basis(params: dict[str, Any]) -> tuple[RunOutput, MemorySink]:
    cfg = make_config(
        strategy__class="isoloop.examples.basis:BasisTrade",
        strategy__params=params,
        container="basis",
    )
    sink = MemorySink()
    coord = ScopeCoordinator(SharedServices(market_data=MD))
    try:
        with coord.scope(load_blueprint("basis"), config=cfg, run_id="basis", log_sink=sink) as run:
            run.start()
            out: RunOutput = run.get("engine").run()
    finally:
        coord.close()
    return out, sink


def test_basis_trade_routes_each_leg_to_its_venue() -> None:
    out, sink = run_basis({"units": 20, "enter_bar": 5, "exit_bar": 100})
    legs = [
        (o["venue"], o["side"], o["status"], o["filled"], o["submitted_bar"]) for o in out.orders
    ]
    assert legs == [
        ("spot", "BUY", "FILLED", 20.0, 5),
        ("perp", "SELL", "FILLED", 20.0, 5),
        ("spot", "SELL", "FILLED", 20.0, 100),
        ("perp", "BUY", "FILLED", 20.0, 100),
    ]
    # Both legs fill at the next bar's open; the hedge cancels the spot PnL exactly.
    open6, open101 = GOOG["Open"].iloc[6], GOOG["Open"].iloc[101]
    assert out.trades["venue"].tolist() == ["spot", "perp"]
    assert out.trades["pnl"].tolist() == pytest.approx(
        [20 * (open101 - open6), -20 * (open101 - open6)]
    )
    assert out.equity[-1] == pytest.approx(2 * 10_000.0)
    assert not [r for r in sink.records() if r.get("code") == "EXEC-006"]


def test_a_block_whose_hedge_leg_can_never_fill_is_retried_then_fails_the_run() -> None:
    # The hedge leg names a venue this container does not have: the router rejects it,
    # leg 1 is unwound (EXEC-006, HIGH), the block is retried with fresh legs after
    # 0.1, 0.2 and 0.4 s of simulated time, and the fourth rollback fails the run.
    sink = MemorySink()
    cfg = make_config(
        strategy__class="isoloop.examples.basis:BasisTrade",
        strategy__params={"units": 20, "enter_bar": 5, "hedge_venue": "nowhere"},
        container="basis",
    )
    coord = ScopeCoordinator(SharedServices(market_data=MD))
    try:
        with coord.scope(load_blueprint("basis"), config=cfg, run_id="basis", log_sink=sink) as run:
            run.start()
            with pytest.raises(AtomicGroupError) as info:
                run.get("engine").run()
            execution = run.get("execution")
            orders = [(o.venue, o.side.value, o.status.value, o.filled) for o in execution.orders]
            health = execution.health()
            spot = run.get("venue")
    finally:
        coord.close()
    assert info.value.code == "EXEC-006"
    one_attempt = [
        ("spot", "BUY", "FILLED", 20.0),  # leg 1 filled ...
        ("nowhere", "SELL", "REJECTED", 0.0),  # ... leg 2 rejected ...
        ("spot", "SELL", "FILLED", 20.0),  # ... so leg 1 is unwound in the same bar
    ]
    assert orders == one_attempt * 4
    rollback = [r for r in sink.records() if r["event"] == "atomic_group_rollback"]
    assert len(rollback) == 4 and {r["code"] for r in rollback} == {"EXEC-006"}
    retries = [r for r in sink.records() if r["event"] == "block_retry"]
    assert [r["retry_in"] for r in retries] == [0.1, 0.2, 0.4]
    assert health.status == "unhealthy"
    assert health.detail["execution"]["last_errors"][-1]["action"] == "failed"
    assert spot.positions == {"spot:spot:GOOG": 0.0}  # every filled leg was unwound


def test_a_block_rolled_back_once_is_retried_and_fills() -> None:
    sink = MemorySink()
    log = make_run_logger(sink, run_id="blk", container_id="c")
    cfg = make_config()
    r = build(
        cfg,
        MD,
        BasisTrade,
        {"units": 20, "enter_bar": 5},
        log=log,
        venue_factory=lambda clock, lg: SimulatedVenue(cfg.venue, clock, lg, name="spot"),
        hedge_venue_factory=lambda clock, lg: FaultySimVenue(
            cfg.venue, clock, lg, name="perp", reject_times=1
        ),
    )
    r.engine._finalize = False
    r.engine.run()
    block = r.execution.blocks[0]  # the engine's block (the view has no retried legs)
    assert block.status == "filled"
    assert [leg.status.value for leg in block.retried_legs] == ["FILLED", "REJECTED"]
    assert [leg.status.value for leg in block.legs] == ["FILLED", "FILLED"]
    held = {f"{o.venue}:{o.position_type}:{o.symbol}": o.side.sign * o.filled for o in block.legs}
    assert sorted(held.values()) == [-20.0, 20.0]
    assert all(r.positions.position(key) == qty for key, qty in held.items())
    assert [e["retry_in"] for e in sink.records() if e["event"] == "block_retry"] == [0.1]
    assert r.clock.slept == pytest.approx(0.1)
    assert r.execution.health().status == "degraded"


def test_hedge_leg_rejected_for_margin_is_unwound_on_every_attempt() -> None:
    sink = MemorySink()
    log = make_run_logger(sink, run_id="blk", container_id="c")
    cfg = make_config(execution__max_retry_attempts=1)
    r = build(
        cfg,
        MD,
        BasisTrade,
        {"units": 20, "enter_bar": 5},
        log=log,
        venue_factory=lambda clock, lg: SimulatedVenue(cfg.venue, clock, lg, name="spot"),
        hedge_venue_factory=lambda clock, lg: SimulatedVenue(
            VenueConfig(cash=100.0), clock, lg, name="perp"
        ),
    )
    r.engine._finalize = False
    with pytest.raises(AtomicGroupError):
        r.engine.run()
    block = r.execution.blocks[0]  # the engine's block (the view has no retried legs)
    assert block.status == "rolled_back"
    assert block.error is not None and block.error.code == "EXEC-006"
    assert [leg.status.value for leg in block.retried_legs + block.legs] == [
        "FILLED",
        "REJECTED",
    ] * 2
    assert block.legs[1].reason == "insufficient margin"
    assert r.positions.position("spot:spot:GOOG") == 0.0
    assert r.venue.positions == {"spot:spot:GOOG": 0.0}
    assert r.venue.cash == 10_000.0
    assert [e["code"] for e in sink.records() if e["event"] == "atomic_group_rollback"] == [
        "EXEC-006"
    ] * 2
    assert r.execution.health().detail["rolled_back"] == 1


def test_basis_params_are_validated() -> None:
    cfg = make_config()
    with pytest.raises(StrategyParamError, match="exit_bar"):
        build(cfg, MD, BasisTrade, {"enter_bar": 5, "exit_bar": 3})


def test_a_block_with_a_denied_leg_sends_nothing() -> None:
    from support.scripted import Scripted

    def place(s: Any) -> Any:
        from isoloop.model import Side

        return s.block([s.leg(Side.BUY, 5, venue="spot"), s.leg(Side.SELL, -1, venue="perp")])

    cfg = make_config()
    r = build(
        cfg,
        MD,
        Scripted,
        {"script": {3: place}},
        venue_factory=lambda clock, lg: SimulatedVenue(cfg.venue, clock, lg, name="spot"),
        hedge_venue_factory=lambda clock, lg: SimulatedVenue(cfg.venue, clock, lg, name="perp"),
    )
    out = r.engine.run()
    block = r.strategy.placed[0]
    assert block.status == "denied"
    assert [(o["status"], o["filled"]) for o in out.orders] == [("DENIED", 0.0), ("DENIED", 0.0)]
    assert r.execution.orders[1].reason.startswith("parameters:")
    assert r.execution.orders[0].reason.startswith(f"block {block.id} denied")
    assert r.venue.cash == 10_000.0
