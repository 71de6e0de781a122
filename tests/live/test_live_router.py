"""The shared order router: one owner per sub-account, each order id sent once."""

from __future__ import annotations

import threading

import pytest

from isoloop.errors import RoutingError
from isoloop.live import OrderRouter
from isoloop.model.events import ExecutionHandshake
from isoloop.model.orders import Order, OrderStatus, Side

pytestmark = pytest.mark.live


def _routed(order: Order) -> Order:
    order.transition(OrderStatus.VALIDATED)
    order.transition(OrderStatus.ROUTED)
    return order


def _accept(order: Order) -> ExecutionHandshake:
    order.transition(OrderStatus.ACCEPTED)
    return ExecutionHandshake(order.id, order.venue, OrderStatus.ACCEPTED)


def test_foreign_accounts_and_repeated_ids_are_refused() -> None:
    router = OrderRouter()
    mine, theirs = object(), object()
    router.register("a", mine, [])
    router.register("b", theirs, ["O0000001"])
    assert (
        router.route("a", mine, _routed(Order("O0000001", "X", Side.BUY, 1)), _accept).status
        == "ACCEPTED"
    )
    with pytest.raises(RoutingError, match="not owned"):
        router.route("b", mine, _routed(Order("O0000002", "X", Side.BUY, 1)), _accept)
    again = _routed(Order("O0000001", "X", Side.BUY, 1))
    hs = router.route("a", mine, again, _accept)
    assert hs.status == OrderStatus.REJECTED and "already sent" in (hs.reason or "")
    # Ids restored at registration (a restart) count as sent.
    hs = router.route("b", theirs, _routed(Order("O0000001", "X", Side.BUY, 1)), _accept)
    assert hs.status == OrderStatus.REJECTED


def test_concurrent_routing_sends_each_order_once() -> None:
    router = OrderRouter()
    owners = {f"acct{i}": object() for i in range(4)}
    for name, owner in owners.items():
        router.register(name, owner, [])
    accepted: list[str] = []

    def run(name: str) -> None:
        for n in range(500):
            order = _routed(Order(f"O{n % 250:07d}", "X", Side.BUY, 1))
            hs = router.route(name, owners[name], order, _accept)
            if hs.status == OrderStatus.ACCEPTED:
                accepted.append(f"{name}/{order.id}")

    threads = [threading.Thread(target=run, args=(name,)) for name in owners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == len(set(accepted)) == 4 * 250
    assert router.duplicates == 4 * 250
