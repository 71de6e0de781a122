"""Client order ids: the same order gets the same id in every process that sends it.

That is what makes placement exactly-once across a SIGKILL: the restarted container
re-creates the order with the same run-local id (`O0000005`), derives the same client
id from it, and asks the exchange for that id before sending anything.
"""

from __future__ import annotations

import hashlib

__all__ = ["CLIENT_ID_LENGTH", "client_order_id"]

# OKX's clOrdId is the tightest of the three exchanges (1-32 letters and digits);
# Binance allows 36 of [.A-Z:/a-z0-9_-], Bybit's orderLinkId 36 of [A-Za-z0-9_-].
CLIENT_ID_LENGTH = 32
_PREFIX = "iso"


def client_order_id(nonce: str, account: str, venue: str, order_id: str) -> str:
    """`iso` + 29 hex digits of SHA-256 over the account's nonce, account, venue and order id.

    The nonce is drawn once per account and kept in the store, so a fresh state folder
    never reuses the ids of an earlier session on the same exchange account."""
    text = f"{nonce}\x1f{account}\x1f{venue}\x1f{order_id}".encode()
    return _PREFIX + hashlib.sha256(text).hexdigest()[: CLIENT_ID_LENGTH - len(_PREFIX)]
