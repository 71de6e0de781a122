"""The second leg of a two-venue exchange container (`containers/basis_live.yaml`).

Slots are injected by parameter name, so every `CcxtVenue` in a container would
sign with the `credentials` slot's keys. A basis container trades spot and perp,
whose keys are separate (`..._SPOT_...` and `..._FUTURES_...`): its hedge leg is
this venue, which signs with the `hedge_credentials` slot instead.
"""

from __future__ import annotations

from typing import Any

from isoloop.config.models import VenueConfig
from isoloop.engine.clock import SimulatedClock
from isoloop.venues.ccxt import CcxtVenue
from isoloop.venues.ccxt.client import Credentials

__all__ = ["HedgeLegVenue"]


class HedgeLegVenue(CcxtVenue):
    """A `CcxtVenue` (default: named `perp`, trading the perp market) that signs with
    `hedge_credentials`; any other `CcxtVenue` argument passes through by name."""

    def __init__(
        self,
        settings: VenueConfig,
        hedge_credentials: Credentials,
        log: Any,
        run_id: str,
        clock: SimulatedClock | None = None,
        store: Any = None,
        name: str | None = "perp",
        market: str | None = "perp",
        **options: Any,
    ) -> None:
        super().__init__(
            settings,
            hedge_credentials,
            log,
            run_id,
            clock=clock,
            store=store,
            name=name,
            market=market,
            **options,
        )
