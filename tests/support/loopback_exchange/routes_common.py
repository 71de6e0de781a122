"""What the spot and USD-M routes share: parameter parsing, filters, klines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .engine import ApiError, Engine

__all__ = [
    "Context",
    "Handler",
    "Reply",
    "Route",
    "dec_param",
    "fmt",
    "int_param",
    "klines",
    "order_params",
]

Reply = Any | ApiError  # a JSON-able answer, or the error to send


@dataclass
class Context:
    """One request as a route sees it."""

    engine: Engine
    params: dict[str, str]
    tick_size: Decimal
    step_size: Decimal
    in_maintenance: bool


Handler = Callable[[Context], Reply]


@dataclass(frozen=True)
class Route:
    handler: Handler
    signed: bool


def fmt(d: Decimal) -> str:
    """A number as Binance writes it: plain digits, never exponent notation or -0."""
    return format(d + 0, "f")


def missing(name: str) -> ApiError:
    return ApiError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def dec_param(params: dict[str, str], name: str) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def int_param(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


@dataclass(frozen=True)
class OrderRequest:
    symbol: str
    side: str
    type_: str
    qty: Decimal
    price: Decimal
    time_in_force: str
    client_order_id: str | None
    reduce_only: bool


def order_params(ctx: Context) -> OrderRequest | ApiError:
    """Validate a new order's parameters the way Binance's filters do."""
    p = ctx.params
    for name in ("symbol", "side", "type"):
        if not p.get(name):
            return missing(name)
    side, type_ = p["side"].upper(), p["type"].upper()
    if side not in ("BUY", "SELL"):
        return ApiError(400, -1117, "Invalid side.")
    if type_ not in ("MARKET", "LIMIT"):
        return ApiError(400, -1116, "Invalid orderType.")
    qty = dec_param(p, "quantity")
    if qty is None:
        return missing("quantity")
    if qty <= 0 or qty % ctx.step_size != 0:
        return ApiError(400, -1013, "Filter failure: LOT_SIZE")
    price = Decimal(0)
    if type_ == "LIMIT":
        got = dec_param(p, "price")
        if got is None:
            return missing("price")
        if got <= 0 or got % ctx.tick_size != 0:
            return ApiError(400, -1013, "Filter failure: PRICE_FILTER")
        price = got
        if not p.get("timeInForce"):
            return missing("timeInForce")
    reduce_only = p.get("reduceOnly", "false").lower() == "true"
    tif = p.get("timeInForce", "GTC").upper() if type_ == "LIMIT" else "GTC"
    return OrderRequest(
        p["symbol"], side, type_, qty, price, tif, p.get("newClientOrderId") or None, reduce_only
    )


def lookup_ids(ctx: Context) -> tuple[int | None, str | None] | ApiError:
    order_id = int_param(ctx.params, "orderId")
    client_id = ctx.params.get("origClientOrderId") or None
    if order_id is None and client_id is None:
        return ApiError(
            400,
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        )
    return order_id, client_id


def klines(ctx: Context, kind: str) -> Reply:
    """Bars up to the current one (never a future bar), `interval` taken as the bars' own."""
    symbol = ctx.params.get("symbol")
    if not symbol:
        return missing("symbol")
    spec = ctx.engine.market(kind, symbol)
    if spec is None:
        return ApiError(400, -1121, "Invalid symbol.")
    start = int_param(ctx.params, "startTime")
    end = int_param(ctx.params, "endTime")
    limit = min(int_param(ctx.params, "limit") or 500, 1500)
    rows = spec.rows[: ctx.engine.bar + 1]
    step = rows[1].open_time - rows[0].open_time if len(spec.rows) > 1 else 60_000
    picked = [
        r
        for r in rows
        if (start is None or r.open_time >= start) and (end is None or r.open_time <= end)
    ]
    picked = picked[:limit] if start is not None else picked[-limit:]
    return [
        [
            r.open_time,
            fmt(r.open),
            fmt(r.high),
            fmt(r.low),
            fmt(r.close),
            fmt(r.volume),
            r.open_time + step - 1,
            fmt(r.volume * r.close),
            1,
            "0",
            "0",
            "0",
        ]
        for r in picked
    ]


def filters(tick: Decimal, step: Decimal) -> list[dict[str, Any]]:
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": fmt(tick),
            "maxPrice": "10000000",
            "tickSize": fmt(tick),
        },
        {"filterType": "LOT_SIZE", "minQty": fmt(step), "maxQty": "100000", "stepSize": fmt(step)},
        {
            "filterType": "MARKET_LOT_SIZE",
            "minQty": fmt(step),
            "maxQty": "100000",
            "stepSize": fmt(step),
        },
    ]


def precision(d: Decimal) -> int:
    exponent = d.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 8
