"""The ccxt venue on its own against the loopback exchange: a resting limit order is
cancelled at the exchange, an order the account cannot pay for comes back REJECTED
(an order outcome, not an error), and an order type it does not send is refused before
any request."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from isoloop.config.models import VenueConfig
from isoloop.errors import ConfigError
from isoloop.model.orders import Order, OrderStatus, OrderType, Side
from isoloop.venues.ccxt import CcxtVenue
from support.exchange_live import FAKE_KEY, FAKE_SECRET, SYMBOL, bars_frame
from support.loopback_exchange import LoopbackExchange


class Keys:
    def get(self, key: str) -> str:
        return {"api_key": FAKE_KEY, "secret": FAKE_SECRET}[key]


@pytest.fixture
def venue() -> Iterator[tuple[CcxtVenue, LoopbackExchange]]:
    with LoopbackExchange({"BTCUSDT": bars_frame(10)}, api_key=FAKE_KEY, secret=FAKE_SECRET) as ex:
        ex.set_bar(2)
        settings = VenueConfig.model_validate(
            {
                "name": "spot",
                "exchange": {"id": "binance", "urls": ex.urls, "symbols": {SYMBOL: "BTC/USDT"}},
            }
        )
        yield CcxtVenue(settings, Keys(), structlog.get_logger(), "solo"), ex


def _routed(oid: str, side: Side, size: float, **kw: Any) -> Order:
    o = Order(oid, SYMBOL, side, size, venue="spot", **kw)
    o.transition(OrderStatus.VALIDATED)
    o.transition(OrderStatus.ROUTED)
    return o


def test_a_resting_limit_order_is_cancelled_at_the_exchange(
    venue: tuple[CcxtVenue, LoopbackExchange],
) -> None:
    v, ex = venue
    order = _routed("O0000001", Side.BUY, 1.0, type=OrderType.LIMIT, limit=50.0)
    assert v.submit(order).status is OrderStatus.ACCEPTED
    assert v.open_order_ids() == ["O0000001"]
    hs = v.cancel(order, "cancelled by strategy")
    assert hs.status is OrderStatus.CANCELLED and not hs.fills
    assert [o["status"] for o in ex.orders()] == ["CANCELED"]
    assert v.open_order_ids() == [] and v.reported_positions() == {}


def test_an_order_the_account_cannot_pay_for_is_rejected_not_raised(
    venue: tuple[CcxtVenue, LoopbackExchange],
) -> None:
    v, ex = venue
    order = _routed("O0000001", Side.BUY, 10_000.0)  # ~1,000,000 USDT; the account has 100,000
    hs = v.submit(order)
    assert hs.status is OrderStatus.REJECTED and not hs.fills
    assert "InsufficientFunds" in (hs.reason or "")
    assert FAKE_SECRET not in (hs.reason or "") and "signature" not in (hs.reason or "")
    assert v.rejections == 1 and ex.orders() == []


def test_an_order_type_it_does_not_send_is_refused_before_any_request(
    venue: tuple[CcxtVenue, LoopbackExchange],
) -> None:
    v, ex = venue
    before = ex.requests.get("POST /api/v3/order", 0)
    hs = v.submit(_routed("O0000001", Side.SELL, 1.0, type=OrderType.STOP, stop=90.0))
    assert hs.status is OrderStatus.REJECTED
    assert "STOP orders are not sent to the exchange" in (hs.reason or "")
    assert ex.requests.get("POST /api/v3/order", 0) == before == 0


def test_nothing_printable_of_the_venue_holds_a_credential(
    venue: tuple[CcxtVenue, LoopbackExchange],
) -> None:
    v, _ = venue
    shown = " ".join([repr(v), str(v), repr(v.client), str(v.client), repr(v.health())])
    assert FAKE_KEY not in shown and FAKE_SECRET not in shown


def test_a_symbol_the_exchange_does_not_list_is_named_with_how_to_fix_it() -> None:
    with LoopbackExchange({"BTCUSDT": bars_frame(5)}, api_key=FAKE_KEY, secret=FAKE_SECRET) as ex:
        settings = VenueConfig.model_validate(
            {"exchange": {"id": "binance", "urls": ex.urls, "symbols": {SYMBOL: "BTC/USDX"}}}
        )
        with pytest.raises(ConfigError, match=r"venue.exchange.symbols: 'BTC/USDX' is not a "):
            CcxtVenue(settings, Keys(), structlog.get_logger(), "solo")
        assert ex.requests.get("POST /api/v3/order", 0) == 0


def test_without_ccxt_installed_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "ccxt", None)  # `import ccxt` raises ImportError
    settings = VenueConfig.model_validate({"exchange": {"id": "binance"}})
    with pytest.raises(ConfigError, match=r"pip install 'isoloop\[exchanges\]'"):
        CcxtVenue(settings, Keys(), structlog.get_logger(), "solo")
