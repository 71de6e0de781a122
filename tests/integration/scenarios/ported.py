"""The oracle's SmaCross over `isoloop.compat.backtesting`, at a module's top level.

An optimizer's trials import the strategy by its class path, so the ported class
is named here (`scenarios.ported:SmaCross`); it is still the code `bt_strategies`
gives backtesting.py, built over the compat base class.
"""

from __future__ import annotations

from isoloop.compat.backtesting import Strategy
from isoloop.compat.backtesting.lib import crossover

from .bt_strategies import build

SmaCross = build(Strategy, crossover).SmaCross
SmaCross.__module__ = __name__
SmaCross.__qualname__ = "SmaCross"
