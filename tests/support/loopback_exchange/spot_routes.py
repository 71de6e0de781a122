"""Binance spot REST routes (`/api/v3/...`, `/sapi/v1/...`) the ccxt client calls."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .engine import ApiError, Order
from .routes_common import (
    Context,
    Reply,
    Route,
    filters,
    int_param,
    klines,
    lookup_ids,
    missing,
    order_params,
)

__all__ = ["SPOT_ROUTES"]


def _q(d: Decimal) -> str:
    return f"{d:.8f}"


def _exchange_info(ctx: Context) -> Reply:
    symbols = []
    for (kind, _), m in sorted(ctx.engine.markets.items()):
        if kind != "spot":
            continue
        symbols.append(
            {
                "symbol": m.id,
                "status": "TRADING",
                "baseAsset": m.base,
                "baseAssetPrecision": 8,
                "quoteAsset": m.quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "MARKET"],
                "icebergAllowed": False,
                "ocoAllowed": False,
                "quoteOrderQtyMarketAllowed": False,
                "allowTrailingStop": False,
                "cancelReplaceAllowed": False,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "filters": filters(ctx.tick_size, ctx.step_size),
                "permissions": [],
                "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_MAKER"],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": ctx.engine.clock(),
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": symbols,
    }


def _order_json(o: Order) -> dict[str, Any]:
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_order_id,
        "price": _q(o.price),
        "origQty": _q(o.qty),
        "executedQty": _q(o.executed),
        "cummulativeQuoteQty": _q(o.cum_quote),
        "status": o.status,
        "timeInForce": o.time_in_force,
        "type": o.type,
        "side": o.side,
        "stopPrice": _q(Decimal(0)),
        "icebergQty": _q(Decimal(0)),
        "time": o.time,
        "updateTime": o.update_time,
        "isWorking": True,
        "workingTime": o.time,
        "origQuoteOrderQty": _q(Decimal(0)),
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }


def _new_order(ctx: Context) -> Reply:
    req = order_params(ctx)
    if isinstance(req, ApiError):
        return req
    placed = ctx.engine.place(
        "spot",
        req.symbol,
        side=req.side,
        type_=req.type_,
        qty=req.qty,
        price=req.price,
        time_in_force=req.time_in_force,
        client_order_id=req.client_order_id,
        reduce_only=False,
    )
    if isinstance(placed, ApiError):
        return placed
    body = _order_json(placed)
    body["transactTime"] = placed.time
    resp_type = ctx.params.get("newOrderRespType", "FULL").upper()
    if resp_type == "ACK":
        return {
            k: body[k]
            for k in ("symbol", "orderId", "orderListId", "clientOrderId", "transactTime")
        }
    if resp_type == "FULL":
        body["fills"] = [
            {
                "price": _q(f.price),
                "qty": _q(f.qty),
                "commission": _q(f.commission),
                "commissionAsset": f.commission_asset,
                "tradeId": f.trade_id,
            }
            for f in placed.fills
        ]
    return body


def _get_order(ctx: Context) -> Reply:
    symbol = ctx.params.get("symbol")
    if not symbol:
        return missing("symbol")
    ids = lookup_ids(ctx)
    if isinstance(ids, ApiError):
        return ids
    found = ctx.engine.find("spot", symbol, *ids)
    return found if isinstance(found, ApiError) else _order_json(found)


def _cancel_order(ctx: Context) -> Reply:
    symbol = ctx.params.get("symbol")
    if not symbol:
        return missing("symbol")
    ids = lookup_ids(ctx)
    if isinstance(ids, ApiError):
        return ids
    done = ctx.engine.cancel("spot", symbol, *ids)
    if isinstance(done, ApiError):
        return done
    body = _order_json(done)
    body["origClientOrderId"] = done.client_order_id
    body["transactTime"] = done.update_time
    return body


def _orders(ctx: Context, *, open_only: bool) -> Reply:
    symbol = ctx.params.get("symbol")
    if not symbol and not open_only:
        return missing("symbol")
    start = int_param(ctx.params, "startTime")
    with ctx.engine.lock:
        picked = [
            _order_json(o)
            for o in ctx.engine.orders
            if o.kind == "spot"
            and (not symbol or o.symbol == symbol)
            and (not open_only or o.status == "NEW")
            and (start is None or o.time >= start)
        ]
    return picked[-(int_param(ctx.params, "limit") or 500) :]


def _my_trades(ctx: Context) -> Reply:
    symbol = ctx.params.get("symbol")
    if not symbol:
        return missing("symbol")
    start = int_param(ctx.params, "startTime")
    order_id = int_param(ctx.params, "orderId")
    with ctx.engine.lock:
        picked = [
            {
                "symbol": f.symbol,
                "id": f.trade_id,
                "orderId": f.order_id,
                "orderListId": -1,
                "price": _q(f.price),
                "qty": _q(f.qty),
                "quoteQty": _q(f.price * f.qty),
                "commission": _q(f.commission),
                "commissionAsset": f.commission_asset,
                "time": f.time,
                "isBuyer": f.side == "BUY",
                "isMaker": f.maker,
                "isBestMatch": True,
            }
            for f in ctx.engine.fills
            if f.kind == "spot"
            and f.symbol == symbol
            and (start is None or f.time >= start)
            and (order_id is None or f.order_id == order_id)
        ]
    return picked[-(int_param(ctx.params, "limit") or 500) :]


def _account(ctx: Context) -> Reply:
    with ctx.engine.lock:
        balances = [
            {"asset": a, "free": _q(b[0]), "locked": _q(b[1])}
            for a, b in sorted(ctx.engine.spot.items())
        ]
    return {
        "makerCommission": 0,
        "takerCommission": 0,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": ctx.engine.clock(),
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": 1,
    }


def _currencies(ctx: Context) -> Reply:
    assets = sorted(
        {a for (k, _), m in ctx.engine.markets.items() if k == "spot" for a in (m.base, m.quote)}
        | set(ctx.engine.spot)
    )
    out = []
    for asset in assets:
        bal = ctx.engine.spot.get(asset, [Decimal(0), Decimal(0)])
        out.append(
            {
                "coin": asset,
                "name": asset,
                "depositAllEnable": False,
                "withdrawAllEnable": False,
                "free": _q(bal[0]),
                "locked": _q(bal[1]),
                "freeze": "0",
                "withdrawing": "0",
                "ipoing": "0",
                "ipoable": "0",
                "storage": "0",
                "isLegalMoney": False,
                "trading": True,
                "networkList": [],
            }
        )
    return out


def _system_status(ctx: Context) -> Reply:
    if ctx.in_maintenance:
        return {"status": 1, "msg": "system maintenance"}
    return {"status": 0, "msg": "normal"}


SPOT_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v3/ping"): Route(lambda ctx: {}, signed=False),
    ("GET", "/api/v3/time"): Route(lambda ctx: {"serverTime": ctx.engine.clock()}, False),
    ("GET", "/api/v3/exchangeInfo"): Route(_exchange_info, signed=False),
    ("GET", "/api/v3/klines"): Route(lambda ctx: klines(ctx, "spot"), signed=False),
    ("GET", "/api/v3/account"): Route(_account, signed=True),
    ("POST", "/api/v3/order"): Route(_new_order, signed=True),
    ("GET", "/api/v3/order"): Route(_get_order, signed=True),
    ("DELETE", "/api/v3/order"): Route(_cancel_order, signed=True),
    ("GET", "/api/v3/openOrders"): Route(lambda ctx: _orders(ctx, open_only=True), True),
    ("GET", "/api/v3/allOrders"): Route(lambda ctx: _orders(ctx, open_only=False), True),
    ("GET", "/api/v3/myTrades"): Route(_my_trades, signed=True),
    ("GET", "/sapi/v1/capital/config/getall"): Route(_currencies, signed=True),
    # ccxt's default load_markets (option fetchMargins) asks for margin pairs: none here.
    ("GET", "/sapi/v1/margin/allPairs"): Route(lambda ctx: [], signed=True),
    ("GET", "/sapi/v1/margin/isolated/allPairs"): Route(lambda ctx: [], signed=True),
    ("GET", "/sapi/v1/system/status"): Route(_system_status, signed=False),
}
