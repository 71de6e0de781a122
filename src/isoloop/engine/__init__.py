"""Per-run components: bus, clock, books, routing, execution, risk, strategy API.

Names load on first use (`isoloop.lazy`), so importing one engine module does not load them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from isoloop.lazy import lazy_exports

if TYPE_CHECKING:
    from isoloop.engine.books import BlockView, BookView, ClockView, OrderView
    from isoloop.engine.bus import EventBus
    from isoloop.engine.clock import SimulatedClock, WallClock
    from isoloop.engine.execution import ExecutionManager, InstructionBlock
    from isoloop.engine.gateway import OrderGateway
    from isoloop.engine.health import Health
    from isoloop.engine.indicators import Indicator, IndicatorMixin
    from isoloop.engine.market import AlignedSymbol, MarketView
    from isoloop.engine.positions import PositionMonitor, PositionUpdateHandler
    from isoloop.engine.risk import KillSwitchState, RiskManager
    from isoloop.engine.strategy import ALL_EQUITY, Strategy, resolve_size
    from isoloop.engine.trades import TRADE_COLUMNS, ClosedTrade, OpenLot, TradeLedger
    from isoloop.engine.tradeview import TradeView
    from isoloop.engine.venue_manager import VenueInterfaceManager

__all__ = [
    "ALL_EQUITY",
    "TRADE_COLUMNS",
    "AlignedSymbol",
    "BlockView",
    "BookView",
    "ClockView",
    "ClosedTrade",
    "EventBus",
    "ExecutionManager",
    "Health",
    "Indicator",
    "IndicatorMixin",
    "InstructionBlock",
    "KillSwitchState",
    "MarketView",
    "OpenLot",
    "OrderGateway",
    "OrderView",
    "PositionMonitor",
    "PositionUpdateHandler",
    "RiskManager",
    "SimulatedClock",
    "Strategy",
    "TradeLedger",
    "TradeView",
    "VenueInterfaceManager",
    "WallClock",
    "resolve_size",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BlockView": "isoloop.engine.books",
        "BookView": "isoloop.engine.books",
        "ClockView": "isoloop.engine.books",
        "OrderView": "isoloop.engine.books",
        "EventBus": "isoloop.engine.bus",
        "SimulatedClock": "isoloop.engine.clock",
        "WallClock": "isoloop.engine.clock",
        "ExecutionManager": "isoloop.engine.execution",
        "InstructionBlock": "isoloop.engine.execution",
        "OrderGateway": "isoloop.engine.gateway",
        "Health": "isoloop.engine.health",
        "Indicator": "isoloop.engine.indicators",
        "IndicatorMixin": "isoloop.engine.indicators",
        "AlignedSymbol": "isoloop.engine.market",
        "MarketView": "isoloop.engine.market",
        "PositionMonitor": "isoloop.engine.positions",
        "PositionUpdateHandler": "isoloop.engine.positions",
        "KillSwitchState": "isoloop.engine.risk",
        "RiskManager": "isoloop.engine.risk",
        "ALL_EQUITY": "isoloop.engine.strategy",
        "Strategy": "isoloop.engine.strategy",
        "resolve_size": "isoloop.engine.strategy",
        "TRADE_COLUMNS": "isoloop.engine.trades",
        "ClosedTrade": "isoloop.engine.trades",
        "OpenLot": "isoloop.engine.trades",
        "TradeLedger": "isoloop.engine.trades",
        "TradeView": "isoloop.engine.tradeview",
        "VenueInterfaceManager": "isoloop.engine.venue_manager",
    },
)
