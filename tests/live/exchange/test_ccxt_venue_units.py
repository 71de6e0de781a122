"""The ccxt venue's pure parts: client order ids, fault classes, Retry-After, scrubbing."""

from __future__ import annotations

import re

import ccxt
import pytest

from isoloop.venues.ccxt import classify, client_order_id
from isoloop.venues.ccxt.faults import AMBIGUOUS, retry_after, scrub


def test_client_order_ids_are_deterministic_short_alphanumeric_and_distinct() -> None:
    a = client_order_id("n1", "basis", "spot", "O0000001")
    assert a == client_order_id("n1", "basis", "spot", "O0000001")  # a restart re-derives it
    # Every exchange's charset and length: OKX's clOrdId (1-32 letters and digits) is tightest.
    assert re.fullmatch(r"[A-Za-z0-9]{1,32}", a)
    others = {
        client_order_id("n2", "basis", "spot", "O0000001"),  # another session's nonce
        client_order_id("n1", "other", "spot", "O0000001"),
        client_order_id("n1", "basis", "perp", "O0000001"),
        client_order_id("n1", "basis", "spot", "O0000002"),
    }
    assert a not in others and len(others) == 4


@pytest.mark.parametrize(
    ("exc", "fault"),
    [
        (ccxt.RequestTimeout("t"), "timeout"),
        (ccxt.ExchangeNotAvailable("503"), "server"),
        (ccxt.NetworkError("reset"), "dropped"),
        (ccxt.DDoSProtection("429"), "rate_limit"),
        (ccxt.RateLimitExceeded("429"), "rate_limit"),
        (ccxt.OnMaintenance("System is under maintenance."), "maintenance"),
        (ccxt.OrderNotFound("-2013"), "not_found"),
        (ccxt.InsufficientFunds("-2010"), "rejected"),
        (ccxt.InvalidOrder("LOT_SIZE"), "rejected"),
        (ccxt.ExchangeError('{"code":-4116,"msg":"ClientOrderId is duplicated."}'), "duplicate"),
        (ccxt.AuthenticationError("-2015"), "auth"),
        (ccxt.ExchangeError("something else"), "other"),
    ],
)
def test_faults_are_classified_from_ccxts_exceptions(exc: Exception, fault: str) -> None:
    assert classify(exc) == fault


def test_only_unknown_outcomes_are_ambiguous() -> None:
    # These are answered by a lookup by client id before anything is sent again.
    assert frozenset({"timeout", "server", "dropped"}) == AMBIGUOUS


def test_retry_after_header_is_honoured_and_capped() -> None:
    assert retry_after({"Retry-After": "2"}, 1.0) == 2.0
    assert retry_after({"retry-after": "3600"}, 1.0) == 60.0
    assert retry_after({"Retry-After": "soon"}, 1.0) == 1.0
    assert retry_after(None, 0.5) == 0.5


def test_scrub_removes_signed_query_strings_and_credential_values() -> None:
    text = "binance POST http://x/api/v3/order?symbol=BTCUSDT&signature=abc KEY123 SEC456"
    out = scrub(text, ["KEY123", "SEC456"])
    assert "signature" not in out and "KEY123" not in out and "SEC456" not in out
    assert "binance POST http://x/api/v3/order" in out
