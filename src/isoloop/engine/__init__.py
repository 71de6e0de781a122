"""Per-run components: bus, clock, books, routing, execution, risk, strategy API."""

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
