"""Binance's request authentication, checked like the real exchange does it.

A SIGNED endpoint needs the `X-MBX-APIKEY` header, a `timestamp` inside the
`recvWindow` (default 5000 ms, at most 60000) and `signature` = hex HMAC-SHA256 of
the total parameters (query string, then body) without the signature, keyed by the
secret. Failures answer with Binance's own codes so ccxt raises its own classes:
-2014/-2015 and -1022 → AuthenticationError, -1021 → InvalidNonce, -1102 → BadRequest.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from .engine import ApiError

__all__ = ["check_signed"]

MISSING_KEY = ApiError(401, -2014, "API-key format invalid.")
WRONG_KEY = ApiError(401, -2015, "Invalid API-key, IP, or permissions for action.")
BAD_SIGNATURE = ApiError(400, -1022, "Signature for this request is not valid.")
NO_TIMESTAMP = ApiError(
    400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
)
OUTSIDE_WINDOW = ApiError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
BAD_WINDOW = ApiError(400, -1131, "recvWindow must be less than 60000")


def _split_signature(total: str) -> tuple[str, str | None]:
    """(payload that was signed, signature) — the signature is the last parameter."""
    marker = "signature="
    if total.startswith(marker):
        return "", total[len(marker) :]
    head, sep, sig = total.rpartition("&" + marker)
    return (head, sig) if sep else (total, None)


def check_signed(
    api_key_header: str | None,
    query: str,
    body: str,
    params: dict[str, str],
    *,
    api_key: str,
    secret: str,
    now_ms: Callable[[], int],
) -> ApiError | None:
    """None when the request is authentic and fresh, else the error to answer with."""
    if not api_key_header:
        return MISSING_KEY
    if not hmac.compare_digest(api_key_header.encode(), api_key.encode()):
        return WRONG_KEY
    total = query + body if not query or not body else query + "&" + body
    payload, signature = _split_signature(total)
    expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if signature is None or not hmac.compare_digest(signature.lower(), expected):
        return BAD_SIGNATURE
    try:
        stamp = int(params["timestamp"])
    except (KeyError, ValueError):
        return NO_TIMESTAMP
    try:
        window = int(params.get("recvWindow", "5000"))
    except ValueError:
        return BAD_WINDOW
    if not 0 < window <= 60_000:
        return BAD_WINDOW
    now = now_ms()
    if stamp > now + 1000 or now - stamp > window:
        return OUTSIDE_WINDOW
    return None
