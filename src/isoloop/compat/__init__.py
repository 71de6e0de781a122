"""Surfaces of other tools on isoloop, so code written for them runs in isoloop's scopes.

`isoloop.compat.backtesting` offers backtesting.py's `Backtest`/`Strategy` API:
a strategy written for backtesting.py runs here by changing its import. Nothing
of the other tool's code is used (backtesting.py is only the test oracle).
"""

from __future__ import annotations

__all__: list[str] = []
