"""What a failed exchange request means for the order, and the severity it gets.

ccxt raises one exception hierarchy for every exchange; this module reads it once:

| fault | ccxt exception | did the order land? | severity (docs/errors.md) |
|---|---|---|---|
| timeout | RequestTimeout | unknown: asked by client id | EXEC-001 HIGH, resent (same id) |
| 5xx | ExchangeNotAvailable | unknown: asked by client id | EXEC-001 HIGH |
| dropped connection | NetworkError | unknown: asked by client id | EXEC-001 HIGH |
| 429 / 418 | DDoSProtection, RateLimitExceeded | no | EXEC-001 HIGH, after Retry-After |
| maintenance | OnMaintenance | no | EXEC-004 MEDIUM: order rejected, run degraded |
| refused order | InvalidOrder, InsufficientFunds, BadRequest | no | the venue's REJECTED answer |
| credentials | AuthenticationError | no | EXEC-001 HIGH (then the run fails) |
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

__all__ = ["AMBIGUOUS", "Fault", "classify", "retry_after", "scrub"]

Fault = Literal[
    "timeout",
    "server",
    "dropped",
    "rate_limit",
    "maintenance",
    "duplicate",
    "not_found",
    "rejected",
    "auth",
    "other",
]
# Faults after which the exchange may or may not have taken the order.
AMBIGUOUS: frozenset[Fault] = frozenset({"timeout", "server", "dropped"})

_QUERY = re.compile(r"\?\S*")


def classify(exc: BaseException) -> Fault:
    """The fault behind a ccxt exception (anything else is `other`)."""
    import ccxt  # type: ignore[import-untyped]  # lazily: `import isoloop` stays light

    # Most specific first: OnMaintenance is an ExchangeNotAvailable, which is a NetworkError.
    order: tuple[tuple[type[BaseException], Fault], ...] = (
        (ccxt.OnMaintenance, "maintenance"),
        (ccxt.RequestTimeout, "timeout"),
        (ccxt.DDoSProtection, "rate_limit"),
        (ccxt.RateLimitExceeded, "rate_limit"),
        (ccxt.ExchangeNotAvailable, "server"),
        (ccxt.NetworkError, "dropped"),
        (ccxt.DuplicateOrderId, "duplicate"),
        (ccxt.OrderNotFound, "not_found"),
        (ccxt.AuthenticationError, "auth"),
        (ccxt.InvalidOrder, "rejected"),
        (ccxt.InsufficientFunds, "rejected"),
        (ccxt.BadRequest, "rejected"),
        (ccxt.OperationRejected, "rejected"),
    )
    text = str(exc).lower()
    # Binance's duplicate client id (-4116 on USD-M) can arrive as a plain ExchangeError.
    if isinstance(exc, ccxt.ExchangeError) and ("duplicate" in text or "-4116" in text):
        return "duplicate"
    for cls, fault in order:
        if isinstance(exc, cls):
            return fault
    return "other"


def retry_after(headers: Mapping[str, Any] | None, default: float) -> float:
    """Seconds the exchange asked us to wait (`Retry-After`), else `default`; capped at 60."""
    if headers:
        for name, value in headers.items():
            if str(name).lower() == "retry-after":
                try:
                    return max(0.0, min(60.0, float(value)))
                except (TypeError, ValueError):
                    break
    return default


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` safe to log: no query string (signatures), no credential value."""
    out = _QUERY.sub("?…", text)
    for s in secrets:
        if s:
            out = out.replace(s, "***")
    return out[:300]
