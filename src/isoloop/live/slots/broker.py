"""The `live` blueprint's venue slot default: a deliberate refusal, not a fake broker.

The `live` blueprint names no exchange. A live container validates its credentials
first (the `credentials` slot is this slot's dependency), then stops here with a
message naming the shipped exchange blueprints (ccxt: Binance, Bybit, OKX) and,
for any other broker, which class to put in the venue slot.
"""

from __future__ import annotations

from typing import Any, NoReturn

from isoloop.config.models import VenueConfig
from isoloop.errors import BlueprintError
from isoloop.live.slots.credentials import VenueCredentials

__all__ = ["EXCHANGE_BLUEPRINTS", "BrokerAdapterRequired"]

# The shipped blueprints that trade on a real exchange (containers/*.yaml).
EXCHANGE_BLUEPRINTS = (
    "binance_spot",
    "binance_perp",
    "bybit_spot",
    "bybit_perp",
    "okx_spot",
    "okx_perp",
    "basis_live",
)


class BrokerAdapterRequired:
    """Has the `Venue` protocol's shape, so the slot's role check passes and the
    credentials are validated first; construction always refuses, so no method runs."""

    name: str
    working: list[Any]

    def __init__(
        self, settings: VenueConfig, credentials: VenueCredentials, log: Any, run_id: str
    ) -> None:
        log.info("credentials_validated", venue=settings.name, keys=list(credentials.keys))
        raise _refusal(
            f"strategy {run_id!r}: containers/live.yaml has no broker adapter for "
            f"venue {settings.name!r}"
        )

    def _never(self, *args: Any, **kwargs: Any) -> NoReturn:
        # Unreachable (construction refuses); the same refusal, should anything call it.
        raise _refusal("containers/live.yaml has no broker adapter")

    submit = process_bar = execute_now = liquidate = write_off = cancel = _never
    account = reported_cash = reported_positions = initial_cash = _never


def _refusal(what: str) -> BlueprintError:
    return BlueprintError(
        f"{what}; for Binance, Bybit or OKX set the strategy's container to an exchange "
        f"blueprint ({', '.join(EXCHANGE_BLUEPRINTS)}) and its venue.exchange (docs/live.md); "
        "for another broker copy the blueprint and set slot 'venue' to your adapter class "
        "(it must implement isoloop.engine.venue.Venue and take `credentials`)"
    )
