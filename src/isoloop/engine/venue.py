"""What the venue interface manager needs from a venue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from isoloop.model.events import AccountSnapshot, ExecutionHandshake
from isoloop.model.orders import Order

__all__ = ["HandshakeSink", "Venue"]

HandshakeSink = Callable[[Order, ExecutionHandshake], None]


@runtime_checkable
class Venue(Protocol):
    name: str
    working: list[Order]

    def submit(self, order: Order, front: bool = False) -> ExecutionHandshake:
        """Take a ROUTED order: ACCEPTED (queued, at the front with `front`), REJECTED,
        or filled at once."""
        ...

    def process_bar(self, bar: int, sink: HandshakeSink, final: bool = False) -> None:
        """Try every working order at `bar`; report each change to `sink`, one order at a time.

        `final` is the end-of-run pass over the last bar, which also fills orders
        placed on that bar (backtesting.py's `finalize_trades`)."""
        ...

    def execute_now(self, order: Order, bar: int) -> ExecutionHandshake:
        """Execute a ROUTED order at `bar` immediately (instruction blocks)."""
        ...

    def liquidate(self, order: Order, bar: int) -> ExecutionHandshake:
        """Fill a ROUTED reduce-only order completely at `bar`'s close (out of money)."""
        ...

    def write_off(self) -> ExecutionHandshake:
        """Set the account's cash to zero; the handshake carries the change."""
        ...

    def cancel(self, order: Order, reason: str) -> ExecutionHandshake: ...

    def account(self) -> AccountSnapshot:
        """The venue's view of cash and positions (what reconciliation compares to)."""
        ...

    def reported_cash(self) -> float: ...

    def reported_positions(self) -> dict[str, float]: ...

    def initial_cash(self) -> float: ...
