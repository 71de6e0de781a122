"""The loopback Binance exchange speaks Binance to the UNMODIFIED ccxt client.

Every test drives `ccxt.binance` with only its API URLs pointed at the stand-in, so
what passes here is what the ccxt adapter will see: the same payloads, the same
error codes and the same ccxt exception classes as against the real exchange.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import ccxt
import numpy as np
import pandas as pd
import pytest
import requests

from support.loopback_exchange import LoopbackControl, LoopbackExchange

pytestmark = pytest.mark.live

KEY, SECRET = "loopback-test-key", "loopback-test-secret"
CLOSES = [100.0, 101.0, 102.0, 103.0, 104.0, 105.0, 104.0, 103.0, 96.0, 101.0]
SPOT, PERP = "BTC/USDT", "BTC/USDT:USDT"


def _frame() -> pd.DataFrame:
    close = np.array(CLOSES)
    return pd.DataFrame(
        {"Open": close, "High": close + 1.0, "Low": close - 1.0, "Close": close, "Volume": 5.0},
        index=pd.date_range("2024-01-01", periods=len(close), freq="1min"),
    )


@pytest.fixture
def ex() -> Iterator[LoopbackExchange]:
    with LoopbackExchange(
        {"BTCUSDT": _frame()},
        KEY,
        SECRET,
        spot_balances={"USDT": 10_000.0},
        futures_balance=5_000.0,
        fee_rate=0.001,
    ) as exchange:
        yield exchange


_MARKETS: dict[str, Any] = {}


def client(ex: LoopbackExchange, market: str = "spot", **overrides: Any) -> Any:
    """A ccxt binance client on the loopback URLs; markets loaded once per module."""
    config: dict[str, Any] = {
        "apiKey": KEY,
        "secret": SECRET,
        "urls": {"api": ex.urls},
        "timeout": 2_000,
        "options": {"defaultType": "spot" if market == "spot" else "swap"},
        # These tests are about the protocol; the limiter (on in the adapter, and in the
        # load_markets test here) would only add ~50 ms of waiting per request.
        "enableRateLimit": False,
    }
    if not _MARKETS:
        # Loaded with the good keys: a test's bad key or stale clock must meet its own
        # request, whichever test of the module a worker happens to run first.
        loader = ccxt.binance(config)
        loader.load_markets()
        _MARKETS.update(markets=loader.markets, currencies=loader.currencies)
    config.update(overrides)
    c = ccxt.binance(config)
    c.set_markets(_MARKETS["markets"], _MARKETS["currencies"])
    ex.reset_requests()
    return c


def test_load_markets_lists_the_spot_and_perp_markets_of_the_bars(ex: LoopbackExchange) -> None:
    c = ccxt.binance({"apiKey": KEY, "secret": SECRET, "urls": {"api": ex.urls}})
    markets = c.load_markets()
    assert markets[SPOT]["spot"] and markets[SPOT]["id"] == "BTCUSDT"
    assert markets[PERP]["swap"] and markets[PERP]["linear"] and markets[PERP]["id"] == "BTCUSDT"
    assert markets[PERP]["precision"]["amount"] == 0.001
    assert ex.unknown_paths == []  # every call the default load_markets makes is answered
    assert abs(c.fetch_time() - time.time() * 1000) < 5_000


def test_market_orders_fill_at_the_current_bars_close_and_move_spot_balances(
    ex: LoopbackExchange,
) -> None:
    c = client(ex)
    ex.set_bar(2)
    buy = c.create_order(SPOT, "market", "buy", 0.5, params={"clientOrderId": "buy-1"})
    assert (buy["status"], buy["filled"], buy["average"]) == ("closed", 0.5, 102.0)
    assert buy["clientOrderId"] == "buy-1"
    assert buy["trades"][0]["fee"] == {"currency": "USDT", "cost": pytest.approx(0.051)}
    ex.set_bar(5)
    c.create_order(SPOT, "market", "sell", 0.2)
    total = c.fetch_balance()["total"]
    assert total["BTC"] == pytest.approx(0.3)
    assert total["USDT"] == pytest.approx(10_000 - 51 - 0.051 + 21 - 0.021)
    assert ex.balances()["spot"]["USDT"]["free"] == pytest.approx(total["USDT"])


def test_orders_are_found_by_client_id_and_by_id_with_their_trades(ex: LoopbackExchange) -> None:
    c = client(ex)
    placed = c.create_order(SPOT, "market", "buy", 1.0, params={"clientOrderId": "cid-7"})
    by_client = c.fetch_order(None, SPOT, params={"origClientOrderId": "cid-7"})
    by_id = c.fetch_order(placed["id"], SPOT)
    assert by_client["id"] == by_id["id"] == placed["id"]
    assert by_client["clientOrderId"] == "cid-7" and by_client["status"] == "closed"
    with pytest.raises(ccxt.OrderNotFound):
        c.fetch_order(None, SPOT, params={"origClientOrderId": "never-sent"})
    trades = c.fetch_my_trades(SPOT)
    assert [(t["order"], t["side"], t["amount"], t["price"]) for t in trades] == [
        (placed["id"], "buy", 1.0, 100.0)
    ]
    assert trades[0]["id"] == str(ex.fills()[0]["trade_id"])
    assert [o["id"] for o in c.fetch_orders(SPOT)] == [placed["id"]]


def test_a_limit_order_rests_then_fills_at_its_price_on_a_later_bar_that_crosses(
    ex: LoopbackExchange,
) -> None:
    c = client(ex)
    ex.set_bar(7)  # close 103, low 102: a buy at 102 is crossed by this very bar...
    order = c.create_order(SPOT, "limit", "buy", 1.0, 102.0, params={"clientOrderId": "lim"})
    assert order["status"] == "open"  # ...but only LATER bars fill a resting order
    assert c.fetch_balance()["used"]["USDT"] == pytest.approx(102 * 1.001)
    assert [o["id"] for o in c.fetch_open_orders(SPOT)] == [order["id"]]
    fills = ex.set_bar(8)  # low 95 crosses 102
    assert [(f["price"], f["maker"], f["bar"]) for f in fills] == [(102.0, True, 8)]
    done = c.fetch_order(order["id"], SPOT)
    assert (done["status"], done["average"]) == ("closed", 102.0)
    assert c.fetch_open_orders(SPOT) == []
    balance = c.fetch_balance()
    assert balance["used"]["USDT"] == 0
    assert balance["total"]["USDT"] == pytest.approx(10_000 - 102 * 1.001)


def test_cancel_releases_the_locked_balance_and_a_second_cancel_is_refused(
    ex: LoopbackExchange,
) -> None:
    c = client(ex)
    order = c.create_order(SPOT, "limit", "buy", 2.0, 50.0)
    assert c.cancel_order(order["id"], SPOT)["status"] == "canceled"
    assert c.fetch_balance()["free"]["USDT"] == pytest.approx(10_000)
    with pytest.raises(ccxt.OrderNotFound):
        c.cancel_order(order["id"], SPOT)
    ex.set_bar(9)
    assert ex.fills() == []


def test_a_client_order_id_of_an_open_order_is_refused(ex: LoopbackExchange) -> None:
    c = client(ex)
    c.create_order(SPOT, "limit", "buy", 1.0, 90.0, params={"clientOrderId": "dup"})
    with pytest.raises(ccxt.InvalidOrder, match="-2010"):
        c.create_order(SPOT, "limit", "buy", 1.0, 90.0, params={"clientOrderId": "dup"})
    p = client(ex, "perp")
    p.create_order(PERP, "limit", "sell", 1.0, 120.0, params={"clientOrderId": "pdup"})
    with pytest.raises(ccxt.ExchangeError, match="-4116"):
        p.create_order(PERP, "limit", "sell", 1.0, 120.0, params={"clientOrderId": "pdup"})
    assert [o["client_order_id"] for o in ex.orders()] == ["dup", "pdup"]


def test_strict_mode_refuses_any_reused_client_order_id() -> None:
    with LoopbackExchange({"BTCUSDT": _frame()}, KEY, SECRET, strict_client_ids=True) as ex:
        c = client(ex)
        c.create_order(SPOT, "market", "buy", 0.1, params={"clientOrderId": "once"})
        with pytest.raises(ccxt.InvalidOrder):
            c.create_order(SPOT, "market", "buy", 0.1, params={"clientOrderId": "once"})
        assert len(ex.orders()) == 1


def test_perp_positions_carry_entry_and_pnl_and_reduce_only_closes_them(
    ex: LoopbackExchange,
) -> None:
    p = client(ex, "perp")
    ex.set_bar(2)
    p.create_order(PERP, "market", "sell", 0.5, params={"clientOrderId": "short"})
    ex.set_bar(5)  # close 105: the short is 1.5 under water
    (pos,) = p.fetch_positions([PERP])
    assert (pos["side"], pos["contracts"], pos["entryPrice"]) == ("short", 0.5, 102.0)
    assert pos["unrealizedPnl"] == pytest.approx(-1.5)
    with pytest.raises(ccxt.ExchangeError, match="-2022"):  # would grow the short
        p.create_order(PERP, "market", "sell", 0.1, params={"reduceOnly": True})
    ex.set_bar(8)  # close 96: buy back 6 lower
    p.create_order(PERP, "market", "buy", 0.5, params={"reduceOnly": True})
    assert p.fetch_positions([PERP]) == []
    fees = 0.001 * (0.5 * 102 + 0.5 * 96)
    assert p.fetch_balance()["total"]["USDT"] == pytest.approx(5_000 + 3.0 - fees)
    assert [float(t["info"]["realizedPnl"]) for t in p.fetch_my_trades(PERP)] == [0.0, 3.0]
    assert ex.positions()["BTCUSDT"]["realized_pnl"] == pytest.approx(3.0)


def test_perp_orders_are_found_listed_and_cancelled_like_spot_ones(ex: LoopbackExchange) -> None:
    p = client(ex, "perp")
    market = p.create_order(PERP, "market", "buy", 0.2, params={"clientOrderId": "pm"})
    limit = p.create_order(PERP, "limit", "buy", 0.2, 90.0, params={"clientOrderId": "pl"})
    found = p.fetch_order(None, PERP, params={"origClientOrderId": "pm"})
    assert (found["id"], found["status"], found["average"]) == (market["id"], "closed", 100.0)
    assert [o["id"] for o in p.fetch_open_orders(PERP)] == [limit["id"]]
    assert p.cancel_order(limit["id"], PERP)["status"] == "canceled"
    assert [o["status"] for o in p.fetch_orders(PERP)] == ["closed", "canceled"]
    assert [t["order"] for t in p.fetch_my_trades(PERP)] == [market["id"]]


def test_ohlcv_shows_the_replayed_bars_up_to_the_current_one(ex: LoopbackExchange) -> None:
    c = client(ex)
    ex.set_bar(4)
    bars = c.fetch_ohlcv(SPOT, "1m")
    assert [b[4] for b in bars] == CLOSES[:5]
    assert bars[0][0] == int(pd.Timestamp("2024-01-01", tz="UTC").value // 1_000_000)
    assert [b[4] for b in client(ex, "perp").fetch_ohlcv(PERP, "1m")] == CLOSES[:5]


def test_spot_and_perp_replay_their_own_bars_given_as_arrays_or_isoloop_bars() -> None:
    from isoloop.data.bars import Bars

    perp_frame = _frame() + 0.5  # the perp trades half a dollar over spot (the basis)
    spot_arrays = {k.lower(): _frame()[k].to_numpy() for k in ("Open", "High", "Low", "Close")}
    bars = {"BTC/USDT": spot_arrays, "BTC/USDT:USDT": Bars.from_frame(perp_frame, "BTC")}
    with LoopbackExchange(bars, KEY, SECRET) as ex:
        c = client(ex)
        c.load_markets(reload=True)  # not the cached BTCUSDT markets: these bars' own
        assert sorted(c.markets) == [SPOT, PERP]
        ex.set_bar(4)
        spot = c.create_order(SPOT, "market", "buy", 1.0)
        perp = c.create_order(PERP, "market", "sell", 1.0)
        assert (spot["average"], perp["average"]) == (104.0, 104.5)
        stamp = c.fetch_ohlcv(PERP, "1m")[-1][0]
        assert stamp == int(pd.Timestamp("2024-01-01 00:04", tz="UTC").value // 1_000_000)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"secret": "not-the-secret"}, ccxt.AuthenticationError),
        ({"apiKey": "not-the-key"}, ccxt.AuthenticationError),
        ({"options": {"timeDifference": 120_000}}, ccxt.InvalidNonce),  # stale timestamp
    ],
)
def test_badly_signed_or_stale_requests_are_refused(
    ex: LoopbackExchange, overrides: dict[str, Any], error: type[Exception]
) -> None:
    c = client(ex, **overrides)
    with pytest.raises(error):
        c.create_order(SPOT, "market", "buy", 0.1)
    with pytest.raises(error):
        c.fetch_balance()
    assert ex.orders() == []


def test_a_request_without_signature_is_refused_and_public_ones_need_none(
    ex: LoopbackExchange,
) -> None:
    resp = requests.get(f"{ex.url}/api/v3/account", headers={"X-MBX-APIKEY": KEY}, timeout=5)
    assert (resp.status_code, resp.json()["code"]) == (400, -1022)
    assert requests.get(f"{ex.url}/api/v3/time", timeout=5).status_code == 200


def _landed(ex: LoopbackExchange, client_order_id: str) -> int:
    return sum(o["client_order_id"] == client_order_id for o in ex.orders())


@pytest.mark.parametrize(
    ("fault", "options", "error", "lands"),
    [
        ("timeout", {"seconds": 1.0}, ccxt.RequestTimeout, False),
        ("timeout", {"seconds": 1.0, "apply_first": True}, ccxt.RequestTimeout, True),
        ("5xx", {"status": 500}, ccxt.ExchangeNotAvailable, False),
        ("5xx", {"status": 502, "apply": True}, ccxt.ExchangeNotAvailable, True),
        ("5xx", {"status": 503}, ccxt.ExchangeNotAvailable, False),
        ("429", {"retry_after": 7}, ccxt.DDoSProtection, False),
        ("drop_before_apply", {}, ccxt.NetworkError, False),
        ("drop_after_apply", {}, ccxt.NetworkError, True),
        ("maintenance", {}, ccxt.OnMaintenance, False),
    ],
)
def test_each_fault_reaches_ccxt_as_its_exception_and_the_book_says_if_it_landed(
    ex: LoopbackExchange,
    fault: str,
    options: dict[str, Any],
    error: type[Exception],
    lands: bool,
) -> None:
    c = client(ex, timeout=400)
    ex.inject(fault, endpoint="POST /api/v3/order", **options)
    with pytest.raises(error):
        c.create_order(SPOT, "market", "buy", 0.1, params={"clientOrderId": "f1"})
    if fault == "429":  # the answer tells the client how long to back off
        assert c.last_response_headers["Retry-After"] == "7"
    assert _landed(ex, "f1") == int(lands)
    if lands:  # "did the order land?" — asking by client id tells the truth
        assert c.fetch_order(None, SPOT, params={"origClientOrderId": "f1"})["status"] == "closed"
    else:
        with pytest.raises(ccxt.OrderNotFound):
            c.fetch_order(None, SPOT, params={"origClientOrderId": "f1"})
    c.create_order(SPOT, "market", "buy", 0.1, params={"clientOrderId": "f2"})  # fault spent
    assert ex.requests["POST /api/v3/order"] == 2


def test_a_held_order_applied_late_is_missing_at_first_then_found(ex: LoopbackExchange) -> None:
    c = client(ex, timeout=300)
    ex.inject("timeout", endpoint="POST /api/v3/order", seconds=1.0, apply=True)
    with pytest.raises(ccxt.RequestTimeout):
        c.create_order(SPOT, "market", "buy", 0.1, params={"clientOrderId": "late"})
    with pytest.raises(ccxt.OrderNotFound):
        c.fetch_order(None, SPOT, params={"origClientOrderId": "late"})
    deadline = time.monotonic() + 10
    while not _landed(ex, "late") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c.fetch_order(None, SPOT, params={"origClientOrderId": "late"})["status"] == "closed"


def test_a_dropped_perp_order_still_opens_the_position(ex: LoopbackExchange) -> None:
    p = client(ex, "perp")
    ex.inject("drop_after_apply", endpoint="POST /fapi/v1/order")
    with pytest.raises(ccxt.NetworkError):
        p.create_order(PERP, "market", "sell", 0.3, params={"clientOrderId": "lost"})
    (pos,) = p.fetch_positions([PERP])
    assert (pos["side"], pos["contracts"]) == ("short", 0.3)


def test_a_fault_armed_for_n_requests_fails_n_then_lets_the_next_through(
    ex: LoopbackExchange,
) -> None:
    c = client(ex)
    ex.inject("5xx", count=2, endpoint="GET /api/v3/account", status=503)
    for _ in range(2):
        with pytest.raises(ccxt.ExchangeNotAvailable):
            c.fetch_balance()
    assert c.fetch_balance()["total"]["USDT"] == 10_000
    assert ex.requests == {"GET /api/v3/account": 3}


def test_maintenance_shows_in_the_system_status_until_cleared(ex: LoopbackExchange) -> None:
    c = client(ex)
    ex.inject("maintenance", count=None, endpoint="POST /api/v3/order")
    assert c.fetch_status()["status"] == "maintenance"
    for _ in range(2):
        with pytest.raises(ccxt.OnMaintenance):
            c.create_order(SPOT, "market", "buy", 0.1)
    ex.clear_faults()
    assert c.fetch_status()["status"] == "ok"
    assert c.create_order(SPOT, "market", "buy", 0.1)["status"] == "closed"


def test_an_injected_binance_error_maps_to_its_ccxt_class(ex: LoopbackExchange) -> None:
    c = client(ex)
    ex.inject(
        "error",
        endpoint="POST /api/v3/order",
        code=-2010,
        msg="Account has insufficient balance for requested action.",
    )
    with pytest.raises(ccxt.InsufficientFunds):
        c.create_order(SPOT, "market", "buy", 0.1)
    assert ex.orders() == []


def test_the_http_control_drives_the_same_exchange(ex: LoopbackExchange) -> None:
    ctl = LoopbackControl(ex.url)
    c = client(ex)
    ctl.set_bar(3)
    c.create_order(SPOT, "market", "buy", 0.2, params={"clientOrderId": "via-http"})
    ctl.inject("429", endpoint="GET /api/v3/account")
    with pytest.raises(ccxt.DDoSProtection):
        c.fetch_balance()
    assert ctl.orders() == ex.orders()
    assert ctl.fills()[0]["price"] == CLOSES[3]
    assert ctl.balances()["spot"]["BTC"]["free"] == pytest.approx(0.2)
    assert ctl.requests == {"POST /api/v3/order": 1, "GET /api/v3/account": 1}
    with pytest.raises(Exception, match="400"):
        ctl.inject("no-such-fault")
    with pytest.raises(ValueError, match="no route"):  # a typo must not arm a dud fault
        ex.inject("5xx", endpoint="POST /api/v3/orders")
