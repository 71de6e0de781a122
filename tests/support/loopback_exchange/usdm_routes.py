"""Binance USD-M futures REST routes (`/fapi/v1`, `/fapi/v2`, `/fapi/v3`) the ccxt client calls.

One-way position mode (positionSide BOTH), cross margin, no margin checks, no funding
and no liquidation: positions only move by fills.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .engine import ApiError, Order, Position
from .routes_common import (
    Context,
    Reply,
    Route,
    filters,
    fmt,
    int_param,
    klines,
    lookup_ids,
    missing,
    order_params,
    precision,
)

__all__ = ["USDM_ROUTES"]

LEVERAGE = 20


def _exchange_info(ctx: Context) -> Reply:
    symbols = []
    for (kind, _), m in sorted(ctx.engine.markets.items()):
        if kind != "perp":
            continue
        symbols.append(
            {
                "symbol": m.id,
                "pair": m.id,
                "contractType": "PERPETUAL",
                "deliveryDate": 4133404800000,
                "onboardDate": 1569398400000,
                "status": "TRADING",
                "maintMarginPercent": "2.5000",
                "requiredMarginPercent": "5.0000",
                "baseAsset": m.base,
                "quoteAsset": m.quote,
                "marginAsset": m.quote,
                "pricePrecision": precision(ctx.tick_size),
                "quantityPrecision": precision(ctx.step_size),
                "baseAssetPrecision": 8,
                "quotePrecision": 8,
                "underlyingType": "COIN",
                "underlyingSubType": [],
                "triggerProtect": "0.0500",
                "liquidationFee": "0.012500",
                "marketTakeBound": "0.05",
                "maxMoveOrderLimit": 10000,
                "filters": filters(ctx.tick_size, ctx.step_size),
                "orderTypes": ["LIMIT", "MARKET"],
                "timeInForce": ["GTC", "IOC", "FOK"],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": ctx.engine.clock(),
        "futuresType": "U_MARGINED",
        "rateLimits": [],
        "exchangeFilters": [],
        "assets": [],
        "symbols": symbols,
    }


def _order_json(o: Order) -> dict[str, Any]:
    return {
        "orderId": o.order_id,
        "symbol": o.symbol,
        "status": o.status,
        "clientOrderId": o.client_order_id,
        "price": fmt(o.price),
        "avgPrice": fmt(o.avg_price),
        "origQty": fmt(o.qty),
        "executedQty": fmt(o.executed),
        "cumQty": fmt(o.executed),
        "cumQuote": fmt(o.cum_quote),
        "timeInForce": o.time_in_force,
        "type": o.type,
        "reduceOnly": o.reduce_only,
        "closePosition": False,
        "side": o.side,
        "positionSide": "BOTH",
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": o.type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "time": o.time,
        "updateTime": o.update_time,
    }


def _symbol(ctx: Context) -> str | ApiError:
    symbol = ctx.params.get("symbol")
    return symbol if symbol else missing("symbol")


def _new_order(ctx: Context) -> Reply:
    req = order_params(ctx)
    if isinstance(req, ApiError):
        return req
    placed = ctx.engine.place(
        "perp",
        req.symbol,
        side=req.side,
        type_=req.type_,
        qty=req.qty,
        price=req.price,
        time_in_force=req.time_in_force,
        client_order_id=req.client_order_id,
        reduce_only=req.reduce_only,
    )
    return placed if isinstance(placed, ApiError) else _order_json(placed)


def _get_order(ctx: Context) -> Reply:
    symbol, ids = _symbol(ctx), lookup_ids(ctx)
    if isinstance(symbol, ApiError):
        return symbol
    if isinstance(ids, ApiError):
        return ids
    found = ctx.engine.find("perp", symbol, *ids)
    return found if isinstance(found, ApiError) else _order_json(found)


def _cancel_order(ctx: Context) -> Reply:
    symbol, ids = _symbol(ctx), lookup_ids(ctx)
    if isinstance(symbol, ApiError):
        return symbol
    if isinstance(ids, ApiError):
        return ids
    done = ctx.engine.cancel("perp", symbol, *ids)
    return done if isinstance(done, ApiError) else _order_json(done)


def _orders(ctx: Context, *, open_only: bool) -> Reply:
    symbol = ctx.params.get("symbol")
    if not symbol and not open_only:
        return missing("symbol")
    start = int_param(ctx.params, "startTime")
    with ctx.engine.lock:
        picked = [
            _order_json(o)
            for o in ctx.engine.orders
            if o.kind == "perp"
            and (not symbol or o.symbol == symbol)
            and (not open_only or o.status == "NEW")
            and (start is None or o.time >= start)
        ]
    return picked[-(int_param(ctx.params, "limit") or 500) :]


def _user_trades(ctx: Context) -> Reply:
    symbol = _symbol(ctx)
    if isinstance(symbol, ApiError):
        return symbol
    start = int_param(ctx.params, "startTime")
    order_id = int_param(ctx.params, "orderId")
    with ctx.engine.lock:
        picked = [
            {
                "buyer": f.side == "BUY",
                "commission": fmt(f.commission),
                "commissionAsset": f.commission_asset,
                "id": f.trade_id,
                "maker": f.maker,
                "orderId": f.order_id,
                "price": fmt(f.price),
                "qty": fmt(f.qty),
                "quoteQty": fmt(f.price * f.qty),
                "realizedPnl": fmt(f.realized_pnl),
                "side": f.side,
                "positionSide": "BOTH",
                "symbol": f.symbol,
                "time": f.time,
            }
            for f in ctx.engine.fills
            if f.kind == "perp"
            and f.symbol == symbol
            and (start is None or f.time >= start)
            and (order_id is None or f.order_id == order_id)
        ]
    return picked[-(int_param(ctx.params, "limit") or 500) :]


def _position_json(ctx: Context, symbol: str, pos: Position, *, v2: bool) -> dict[str, Any]:
    mark = ctx.engine.close("perp", symbol)
    notional = pos.amount * mark
    margin = abs(notional) / LEVERAGE
    out: dict[str, Any] = {
        "symbol": symbol,
        "positionSide": "BOTH",
        "positionAmt": fmt(pos.amount),
        "entryPrice": fmt(pos.entry),
        "breakEvenPrice": fmt(pos.entry),
        "markPrice": fmt(mark),
        "unRealizedProfit": fmt(ctx.engine.unrealized(symbol)),
        "liquidationPrice": "0",
        "isolatedMargin": "0",
        "notional": fmt(notional),
        "marginAsset": "USDT",
        "isolatedWallet": "0",
        "initialMargin": fmt(margin),
        "maintMargin": fmt(margin / 10),
        "positionInitialMargin": fmt(margin),
        "openOrderInitialMargin": "0",
        "adl": 0,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": pos.update_time,
    }
    if v2:
        out.update(
            {
                "leverage": str(LEVERAGE),
                "marginType": "cross",
                "maxNotionalValue": "1000000",
                "isAutoAddMargin": "false",
            }
        )
    return out


def _position_risk(ctx: Context, *, v2: bool) -> Reply:
    symbol = ctx.params.get("symbol")
    with ctx.engine.lock:
        if v2:  # v2 lists every market, v3 only those with a position
            names = [m.id for (k, _), m in sorted(ctx.engine.markets.items()) if k == "perp"]
        else:
            names = sorted(s for s, p in ctx.engine.positions.items() if p.amount != 0)
        return [
            _position_json(ctx, s, ctx.engine.positions.get(s, Position()), v2=v2)
            for s in names
            if not symbol or s == symbol
        ]


def _account(ctx: Context, *, v2: bool) -> Reply:
    with ctx.engine.lock:
        eng = ctx.engine
        upnl = sum((eng.unrealized(s) for s in eng.positions), Decimal(0))
        wallet, margin_balance = eng.wallet, eng.wallet + upnl
        positions = [
            _position_json(ctx, s, p, v2=v2)
            for s, p in sorted(eng.positions.items())
            if p.amount != 0 or v2
        ]
    used = sum((Decimal(p["initialMargin"]) for p in positions), Decimal(0))
    available = margin_balance - used
    asset = {
        "asset": "USDT",
        "walletBalance": fmt(wallet),
        "unrealizedProfit": fmt(upnl),
        "marginBalance": fmt(margin_balance),
        "maintMargin": fmt(used / 10),
        "initialMargin": fmt(used),
        "positionInitialMargin": fmt(used),
        "openOrderInitialMargin": "0",
        "crossWalletBalance": fmt(wallet),
        "crossUnPnl": fmt(upnl),
        "availableBalance": fmt(available),
        "maxWithdrawAmount": fmt(available),
        "updateTime": ctx.engine.clock(),
    }
    return {
        "totalInitialMargin": fmt(used),
        "totalMaintMargin": fmt(used / 10),
        "totalWalletBalance": fmt(wallet),
        "totalUnrealizedProfit": fmt(upnl),
        "totalMarginBalance": fmt(margin_balance),
        "totalPositionInitialMargin": fmt(used),
        "totalOpenOrderInitialMargin": "0",
        "totalCrossWalletBalance": fmt(wallet),
        "totalCrossUnPnl": fmt(upnl),
        "availableBalance": fmt(available),
        "maxWithdrawAmount": fmt(available),
        "canTrade": True,
        "canDeposit": False,
        "canWithdraw": False,
        "feeTier": 0,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
        "updateTime": 0,
        "assets": [asset],
        "positions": positions,
    }


def _balance(ctx: Context) -> Reply:
    account = _account(ctx, v2=False)
    asset = account["assets"][0]
    return [
        {
            "accountAlias": "loopback",
            "asset": "USDT",
            "balance": asset["walletBalance"],
            "crossWalletBalance": asset["crossWalletBalance"],
            "crossUnPnl": asset["crossUnPnl"],
            "availableBalance": asset["availableBalance"],
            "maxWithdrawAmount": asset["maxWithdrawAmount"],
            "marginAvailable": True,
            "updateTime": asset["updateTime"],
        }
    ]


def _leverage_bracket(ctx: Context) -> Reply:
    return [
        {
            "symbol": m.id,
            "notionalCoef": 1.0,
            "brackets": [
                {
                    "bracket": 1,
                    "initialLeverage": 125,
                    "notionalCap": 10_000_000,
                    "notionalFloor": 0,
                    "maintMarginRatio": 0.004,
                    "cum": 0.0,
                }
            ],
        }
        for (k, _), m in sorted(ctx.engine.markets.items())
        if k == "perp"
    ]


def _premium_index(ctx: Context) -> Reply:
    def one(symbol: str) -> dict[str, Any]:
        mark = fmt(ctx.engine.close("perp", symbol))
        return {
            "symbol": symbol,
            "markPrice": mark,
            "indexPrice": mark,
            "estimatedSettlePrice": mark,
            "lastFundingRate": "0",
            "interestRate": "0",
            "nextFundingTime": 0,
            "time": ctx.engine.clock(),
        }

    symbol = ctx.params.get("symbol")
    if symbol:
        return (
            one(symbol)
            if ctx.engine.market("perp", symbol)
            else ApiError(400, -1121, "Invalid symbol.")
        )
    return [one(m.id) for (k, _), m in sorted(ctx.engine.markets.items()) if k == "perp"]


def _set_leverage(ctx: Context) -> Reply:
    symbol = _symbol(ctx)
    if isinstance(symbol, ApiError):
        return symbol
    return {
        "leverage": int_param(ctx.params, "leverage") or LEVERAGE,
        "maxNotionalValue": "1000000",
        "symbol": symbol,
    }


def _time(ctx: Context) -> Reply:
    return {"serverTime": ctx.engine.clock()}


USDM_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/fapi/v1/ping"): Route(lambda ctx: {}, signed=False),
    ("GET", "/fapi/v1/time"): Route(_time, signed=False),
    ("GET", "/fapi/v1/exchangeInfo"): Route(_exchange_info, signed=False),
    ("GET", "/fapi/v1/klines"): Route(lambda ctx: klines(ctx, "perp"), signed=False),
    ("GET", "/fapi/v1/premiumIndex"): Route(_premium_index, signed=False),
    ("POST", "/fapi/v1/order"): Route(_new_order, signed=True),
    ("GET", "/fapi/v1/order"): Route(_get_order, signed=True),
    ("DELETE", "/fapi/v1/order"): Route(_cancel_order, signed=True),
    ("GET", "/fapi/v1/openOrders"): Route(lambda ctx: _orders(ctx, open_only=True), True),
    ("GET", "/fapi/v1/allOrders"): Route(lambda ctx: _orders(ctx, open_only=False), True),
    ("GET", "/fapi/v1/userTrades"): Route(_user_trades, signed=True),
    ("GET", "/fapi/v1/leverageBracket"): Route(_leverage_bracket, signed=True),
    ("GET", "/fapi/v1/positionSide/dual"): Route(lambda c: {"dualSidePosition": False}, True),
    ("POST", "/fapi/v1/leverage"): Route(_set_leverage, signed=True),
    # ccxt's default load_markets also asks for coin-M markets: there are none here.
    ("GET", "/dapi/v1/exchangeInfo"): Route(
        lambda c: {"timezone": "UTC", "serverTime": c.engine.clock(), "symbols": []}, False
    ),
    ("GET", "/fapi/v2/account"): Route(lambda ctx: _account(ctx, v2=True), signed=True),
    ("GET", "/fapi/v3/account"): Route(lambda ctx: _account(ctx, v2=False), signed=True),
    ("GET", "/fapi/v2/balance"): Route(_balance, signed=True),
    ("GET", "/fapi/v3/balance"): Route(_balance, signed=True),
    ("GET", "/fapi/v2/positionRisk"): Route(lambda c: _position_risk(c, v2=True), True),
    ("GET", "/fapi/v3/positionRisk"): Route(lambda c: _position_risk(c, v2=False), True),
}
