"""The ccxt venue: a real exchange (Binance, Bybit, OKX; spot and linear perp) behind the
`Venue` protocol. ccxt itself is imported only when a venue is built (the `exchanges`
extra), so `import isoloop.venues.ccxt` stays light."""

from __future__ import annotations

from isoloop.venues.ccxt.faults import AMBIGUOUS, Fault, classify
from isoloop.venues.ccxt.ids import client_order_id
from isoloop.venues.ccxt.venue import CcxtVenue

__all__ = ["AMBIGUOUS", "CcxtVenue", "Fault", "classify", "client_order_id"]
