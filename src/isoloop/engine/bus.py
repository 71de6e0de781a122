"""The run's private event bus: synchronous, ordered, per run (never shared)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from isoloop.engine.health import Health, health

__all__ = ["EventBus"]


class EventBus:
    """Type-keyed publish/subscribe. Publishers ask `wants(type)` first so that
    nobody allocates an event object that no one will read."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], None]]] = {}
        self.published = 0
        # Handlers subscribed, all types together: read once per order step, so a
        # plain attribute rather than a property (0: nobody listens, publish nothing).
        self.subscriptions = 0

    def subscribe(self, event_type: type, handler: Callable[[Any], None]) -> None:
        self._handlers.setdefault(event_type, []).append(handler)
        self.subscriptions += 1

    def unsubscribe(self, event_type: type, handler: Callable[[Any], None]) -> None:
        handlers = self._handlers.get(event_type, [])
        if handler in handlers:
            handlers.remove(handler)
            self.subscriptions -= 1

    @property
    def has_subscribers(self) -> bool:
        return self.subscriptions > 0

    def wants(self, event_type: type) -> bool:
        return bool(self._handlers.get(event_type))

    def publish(self, event: Any) -> None:
        handlers = self._handlers.get(type(event))
        if handlers:
            self.published += 1
            for handler in tuple(handlers):
                handler(event)

    # Stopping only clears this object's own dicts: no thread hand-off needed.
    inline_stop = True

    def stop(self) -> None:
        self._handlers.clear()
        self.subscriptions = 0

    def health(self) -> Health:
        return health(
            "healthy",
            published=self.published,
            subscriptions=sum(len(h) for h in self._handlers.values()),
        )
