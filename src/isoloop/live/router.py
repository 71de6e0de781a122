"""The shared, thread-safe order router between containers and the venue.

Each sub-account (one per strategy) is owned by exactly one live venue object
at a time; an order for someone else's account, or an order id the account
has already seen, is refused. This is where "nothing crosses between
containers" and "no order is sent twice" are enforced.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from isoloop.errors import RoutingError
from isoloop.model.events import ExecutionHandshake
from isoloop.model.orders import Order, OrderStatus

__all__ = ["OrderRouter"]


class OrderRouter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[str, object] = {}
        self._sent: dict[str, set[str]] = {}
        self.routed: dict[str, int] = {}
        self.duplicates = 0

    def register(self, account: str, owner: object, sent_ids: Iterable[str]) -> None:
        """`owner` (a container's venue) takes over `account`; a restart replaces the old one."""
        with self._lock:
            self._owners[account] = owner
            self._sent[account] = set(sent_ids)
            self.routed.setdefault(account, 0)

    def release(self, account: str, owner: object) -> None:
        with self._lock:
            if self._owners.get(account) is owner:
                del self._owners[account]

    def route(
        self,
        account: str,
        owner: object,
        order: Order,
        submit: Callable[[Order], ExecutionHandshake],
    ) -> ExecutionHandshake:
        with self._lock:
            if self._owners.get(account) is not owner:
                raise RoutingError(
                    f"order {order.id}: account {account!r} is not owned by this container",
                    venue=order.venue,
                )
            sent = self._sent[account]
            if order.id in sent:
                self.duplicates += 1
                reason = f"duplicate order id {order.id} for account {account!r}: already sent"
                order.transition(OrderStatus.REJECTED, reason)
                return ExecutionHandshake(
                    order.id, order.venue, OrderStatus.REJECTED, reason=reason
                )
            sent.add(order.id)
            self.routed[account] += 1
            return submit(order)

    def accounts(self) -> list[str]:
        with self._lock:
            return sorted(self._owners)
