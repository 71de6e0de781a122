"""A loopback stand-in for Binance spot and USD-M futures, for tests of the ccxt adapter.

The UNMODIFIED ccxt Binance client talks to it once its API URLs point here; no other
client option is needed (the default `load_markets` calls — spot, USD-M and coin-M
exchangeInfo, and `/sapi/v1/capital/config/getall` for currencies when keys are set —
are all answered)::

    import ccxt
    from support.loopback_exchange import LoopbackExchange

    with LoopbackExchange({"BTCUSDT": frame}, api_key="k", secret="s") as ex:
        spot = ccxt.binance({"apiKey": "k", "secret": "s", "urls": {"api": ex.urls}})
        perp = ccxt.binance(ex.ccxt_config("perp"))      # defaultType swap
        ex.set_bar(3)                                    # market orders fill at bar 3's close
        spot.create_order("BTC/USDT", "market", "buy", 0.5, params={"clientOrderId": "c1"})
        spot.fetch_order(None, "BTC/USDT", params={"origClientOrderId": "c1"})
        ex.inject("drop_after_apply", endpoint="POST /fapi/v1/order")
        assert ex.requests["POST /api/v3/order"] == 1
        ex.orders(); ex.fills(); ex.balances(); ex.positions()

From another process use `LoopbackControl(ex.url)` (same control methods over HTTP).
Note for `set_sandbox_mode(True)`: ccxt swaps `urls['api']` for its testnet URLs, so
apply the URL override AFTER enabling sandbox mode. ccxt's per-market exception maps
are keyed on Binance's real host names, so over loopback only its generic code map
applies (a USD-M duplicate client id, -4116, surfaces as a plain ExchangeError whose
text carries the code). See docs/loopback-exchange.md for what is and is not modelled.
"""

from __future__ import annotations

from .control import LoopbackControl
from .faults import FAULT_KINDS
from .server import LoopbackExchange

__all__ = ["FAULT_KINDS", "LoopbackControl", "LoopbackExchange"]
