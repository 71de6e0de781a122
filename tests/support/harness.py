"""A small hand-wired run container, mirroring containers/backtest.yaml.

Used where a test needs to reach into components (a custom venue, a
settlement delay, two venues) or before the scope core is available.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import structlog

from isoloop.backtest import BacktestEngine
from isoloop.config.models import RunConfig
from isoloop.data.bars import Bars, MarketData
from isoloop.engine import (
    EventBus,
    ExecutionManager,
    PositionMonitor,
    PositionUpdateHandler,
    RiskManager,
    SimulatedClock,
    Strategy,
    VenueInterfaceManager,
)
from isoloop.venues import SimulatedVenue


@dataclass
class Run:
    clock: SimulatedClock
    bus: EventBus
    venue: Any
    positions: PositionMonitor
    position_updates: PositionUpdateHandler
    venues: VenueInterfaceManager
    execution: ExecutionManager
    risk: RiskManager
    strategy: Strategy
    engine: BacktestEngine


def market(*frames: tuple[str, pd.DataFrame]) -> MarketData:
    return MarketData({sym: Bars.from_frame(df, sym) for sym, df in frames})


def make_config(**overrides: Any) -> RunConfig:
    raw: dict[str, Any] = {
        "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {}},
        "data": {"source": "sample:GOOG", "symbol": "GOOG"},
    }
    for dotted, value in overrides.items():
        node = raw
        parts = dotted.split("__")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return RunConfig.model_validate(raw)


def build(
    config: RunConfig,
    data: MarketData,
    strategy_cls: type[Strategy],
    params: dict[str, Any] | None = None,
    *,
    log: Any = None,
    venue_factory: Any = None,
    hedge_venue_factory: Any = None,
    bus: EventBus | None = None,
) -> Run:
    log = log if log is not None else structlog.get_logger().bind(run_id="test")
    clock = SimulatedClock(data, config)
    bus = bus if bus is not None else EventBus()
    if venue_factory is None:
        venue = SimulatedVenue(config.venue, clock, log)
    else:
        venue = venue_factory(clock, log)
    hedge = hedge_venue_factory(clock, log) if hedge_venue_factory is not None else None
    venues = VenueInterfaceManager(venue, log, hedge_venue=hedge)
    positions = PositionMonitor(clock)
    updates = PositionUpdateHandler(positions, venues, log)
    risk = RiskManager(positions, clock, log, config=config)
    execution = ExecutionManager(
        venues=venues,
        position_updates=updates,
        risk=risk,
        clock=clock,
        log=log,
        bus=bus,
        config=config,
    )
    strategy = strategy_cls(
        params if params is not None else dict(config.strategy.params),
        clock=clock,
        execution=execution,
        positions=positions,
        log=log,
    )
    engine = BacktestEngine(
        clock=clock,
        strategy=strategy,
        execution=execution,
        positions=positions,
        position_updates=updates,
        log=log,
        bus=bus,
    )
    return Run(clock, bus, venue, positions, updates, venues, execution, risk, strategy, engine)
