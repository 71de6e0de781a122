"""Execution health and handshake validation: what the tight loop records about itself.

Severity is policy (docs/errors.md): every engine error the execution manager
handles is recorded here with what it did about it — `failed` (CRITICAL, or
HIGH after its retries ran out), `retried` (HIGH), `degraded` (MEDIUM, the run
goes on) or `logged` (LOW). The state follows: one failure makes it `failed`,
a retry or a MEDIUM error makes a healthy manager `degraded`; LOW never
changes it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from isoloop.errors import EngineError, InvalidHandshake
from isoloop.model.events import ExecutionHandshake
from isoloop.model.orders import Order

__all__ = ["ErrorRecord", "ExecutionHealth", "check_handshake"]

Action = Literal["failed", "retried", "degraded", "logged"]
ExecState = Literal["healthy", "degraded", "failed"]

# A fill may round a hair over the order's units (fractions resolved at fill time).
_OVERFILL_TOLERANCE = 1e-9
_INF = math.inf


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    """One handled engine error: `time` is the run's clock (seconds since the epoch)."""

    code: str
    severity: str
    message: str
    time: float
    action: Action

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "time": self.time,
            "action": self.action,
        }


class ExecutionHealth:
    """Error count, error rate, average processing time per order and the last errors."""

    __slots__ = ("busy", "errors", "last", "orders", "state")

    def __init__(self, keep: int = 10) -> None:
        self.errors = 0
        self.orders = 0
        self.busy = 0.0  # wall-clock seconds spent in the tight loop, over all orders
        self.last: deque[ErrorRecord] = deque(maxlen=keep)
        self.state: ExecState = "healthy"

    def order_done(self, seconds: float) -> None:
        self.orders += 1
        self.busy += seconds

    def record(self, err: EngineError, at: float, action: Action) -> ErrorRecord:
        rec = ErrorRecord(err.code, err.severity.value, str(err), at, action)
        self.errors += 1
        self.last.append(rec)
        if action == "failed":
            self.state = "failed"
        elif action != "logged" and self.state == "healthy":
            self.state = "degraded"
        return rec

    def degrade(self) -> None:
        """A retry that was not an error of its own (a reconciliation mismatch)."""
        if self.state == "healthy":
            self.state = "degraded"

    def fail(self) -> None:
        self.state = "failed"

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "error_count": self.errors,
            "error_rate": self.errors / self.orders if self.orders else 0.0,
            "avg_processing_ms": 1e3 * self.busy / self.orders if self.orders else 0.0,
            "last_errors": [r.to_dict() for r in self.last],
        }


def check_handshake(order: Order, hs: ExecutionHandshake) -> None:
    """Raise `InvalidHandshake` (EXEC-008) when a venue's answer does not match `order`.

    Checked before the books apply anything: the answer must name this order and
    its venue, and each fill this order's id, symbol and venue and a positive
    finite price; the order may not be filled over its units. (A fill's sign is not
    checked against the order's side: a venue that keeps trades reports each trade's
    own change.)"""
    oid, venue = order.id, order.venue
    if hs.order_id == oid and hs.venue == venue:
        # The fast path of every handshake: one pass, no message built.
        sym = order.symbol
        for f in hs.fills:
            if not (
                f.order_id == oid and f.symbol == sym and f.venue == venue and 0 < f.price < _INF
            ):
                break
        else:
            size = order.size
            if not hs.fills or size <= 0 or order.filled <= size * (1 + _OVERFILL_TOLERANCE):
                return
    raise InvalidHandshake(
        f"venue {hs.venue!r} answered order {oid} with: {'; '.join(_problems(order, hs))}",
        order_id=oid,
        venue=hs.venue,
    )


def _problems(order: Order, hs: ExecutionHandshake) -> list[str]:
    problems: list[str] = []
    if hs.order_id != order.id:
        problems.append(f"order id {hs.order_id!r} is not {order.id!r}")
    if hs.venue != order.venue:
        problems.append(f"venue {hs.venue!r} is not {order.venue!r}")
    for f in hs.fills:
        if f.order_id != order.id:
            problems.append(f"a fill names order {f.order_id!r}")
        if f.symbol != order.symbol:
            problems.append(f"a fill's symbol {f.symbol!r} is not {order.symbol!r}")
        if f.venue != order.venue:
            problems.append(f"a fill's venue {f.venue!r} is not {order.venue!r}")
        if not (0 < f.price < _INF):
            problems.append(f"a fill's price {f.price!r} is not a positive number")
    if hs.fills and order.size > 0 and order.filled > order.size * (1 + _OVERFILL_TOLERANCE):
        problems.append(f"filled {order.filled:g} is over the order's {order.size:g} units")
    return problems
