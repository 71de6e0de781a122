"""Instruction blocks across two venues: all legs fill, or filled legs are unwound (EXEC-006)."""

from __future__ import annotations

from typing import Any

import pytest
from backtesting.test import GOOG

from isoloop.backtest import RunOutput
from isoloop.config.models import VenueConfig
from isoloop.examples.basis import BasisTrade
from isoloop.logging import MemorySink, make_run_logger
from isoloop.model import StrategyParamError
from isoloop.scope import ScopeCoordinator, SharedServices, load_blueprint
from isoloop.venues import SimulatedVenue
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


def test_block_with_a_rejected_second_leg_is_rolled_back_exec_006_in_the_run_log() -> None:
    # The hedge leg names a venue this container does not have: the router rejects it.
    out, sink = run_basis({"units": 20, "enter_bar": 5, "hedge_venue": "nowhere"})
    by_tag = [(o["venue"], o["side"], o["status"], o["filled"]) for o in out.orders]
    assert by_tag == [
        ("spot", "BUY", "FILLED", 20.0),  # leg 1 filled ...
        ("nowhere", "SELL", "REJECTED", 0.0),  # ... leg 2 rejected ...
        ("spot", "SELL", "FILLED", 20.0),  # ... so leg 1 is unwound in the same bar
    ]
    assert out.orders[0]["last_fill_bar"] == out.orders[2]["last_fill_bar"] == 6
    rollback = [r for r in sink.records() if r["event"] == "atomic_group_rollback"]
    assert len(rollback) == 1
    assert rollback[0]["code"] == "EXEC-006" and rollback[0]["level"] == "error"
    assert rollback[0]["run_id"] == "basis"
    assert rollback[0]["unwound"] == [out.orders[0]["id"]]
    assert out.equity[-1] == pytest.approx(2 * 10_000.0)  # no position left from leg 1
    assert len(out.trades) == 1 and out.trades["pnl"].iloc[0] == 0.0


def test_hedge_leg_rejected_for_margin_leaves_no_spot_position() -> None:
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
        hedge_venue_factory=lambda clock, lg: SimulatedVenue(
            VenueConfig(cash=100.0), clock, lg, name="perp"
        ),
    )
    r.engine._finalize = False
    out = r.engine.run()
    block = r.strategy.blocks[0]
    assert block.status == "rolled_back"
    assert block.error is not None and block.error.code == "EXEC-006"
    assert [leg.status.value for leg in block.legs] == ["FILLED", "REJECTED"]
    assert block.legs[1].reason == "insufficient margin"
    assert r.positions.position("spot:spot:GOOG") == 0.0
    assert r.venue.positions == {"spot:spot:GOOG": 0.0}
    assert r.venue.cash == 10_000.0
    assert [e["code"] for e in sink.records() if e["event"] == "atomic_group_rollback"] == [
        "EXEC-006"
    ]
    assert r.execution.health().detail["rolled_back"] == 1
    assert out.orders[-1]["status"] == "FILLED"


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
