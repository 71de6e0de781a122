"""Routes each order to its venue by name."""

from __future__ import annotations

from typing import Any

from isoloop.engine.health import Health, health
from isoloop.engine.venue import Venue
from isoloop.errors import RoutingError
from isoloop.model.events import ExecutionHandshake
from isoloop.model.orders import Order, OrderStatus

__all__ = ["VenueInterfaceManager"]


class VenueInterfaceManager:
    """Holds the run's venues; a blueprint fills `venue` and optionally `hedge_venue`."""

    def __init__(self, venue: Venue, log: Any, hedge_venue: Venue | None = None) -> None:
        self._log = log
        self._venues: dict[str, Venue] = {}
        self.register(venue)
        if hedge_venue is not None:
            self.register(hedge_venue)
        self.routed = 0

    def register(self, venue: Venue) -> None:
        if venue.name in self._venues:
            raise RoutingError(
                f"two venues are named {venue.name!r}; give each venue slot a distinct `name`"
            )
        self._venues[venue.name] = venue

    @property
    def default(self) -> str:
        return next(iter(self._venues))

    def names(self) -> list[str]:
        return list(self._venues)

    def venues(self) -> list[Venue]:
        return list(self._venues.values())

    def find(self, name: str) -> Venue | None:
        return self._venues.get(name)

    def get(self, name: str) -> Venue:
        try:
            return self._venues[name]
        except KeyError:
            raise RoutingError(
                f"no venue named {name!r} in this container (known: {', '.join(self._venues)})",
                venue=name,
            ) from None

    def route_to_venue(self, order: Order) -> ExecutionHandshake:
        venue = self._venues.get(order.venue)
        if venue is None:
            reason = f"unknown venue {order.venue!r} (known: {', '.join(self._venues)})"
            order.transition(OrderStatus.ROUTED)
            order.transition(OrderStatus.REJECTED, reason)
            return ExecutionHandshake(order.id, order.venue, OrderStatus.REJECTED, reason=reason)
        order.transition(OrderStatus.ROUTED)
        self.routed += 1
        return venue.submit(order)

    def health(self) -> Health:
        return health("healthy", venues=list(self._venues), routed=self.routed)
