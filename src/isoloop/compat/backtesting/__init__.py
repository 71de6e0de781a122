"""backtesting.py's API on isoloop: port a strategy by changing its import.

    from isoloop.compat.backtesting import Backtest, Strategy
    from isoloop.compat.backtesting.lib import crossover

`Strategy` keeps `init()`/`next()`, class-level parameters, `self.I`, growing
`self.data` columns, `self.position`, `self.trades`, `self.orders` and
`buy/sell(size=, limit=, stop=, sl=, tp=, tag=)`; `Backtest(...).run()` returns
the stats under backtesting.py's labels. See docs/porting.md for what differs.
"""

from __future__ import annotations

# `lib` too, for backtesting.py's `backtesting.lib.crossover` spelling.
from isoloop.compat.backtesting import lib
from isoloop.compat.backtesting._backtest import Backtest
from isoloop.compat.backtesting._data import Array, Data, Indicator
from isoloop.compat.backtesting._orders import Order, Position
from isoloop.compat.backtesting._stats import RunStrategy
from isoloop.compat.backtesting._strategy import Strategy
from isoloop.compat.backtesting.lib import crossover

__all__ = [
    "Array",
    "Backtest",
    "Data",
    "Indicator",
    "Order",
    "Position",
    "RunStrategy",
    "Strategy",
    "crossover",
    "lib",
]
