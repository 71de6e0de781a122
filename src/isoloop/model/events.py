"""Immutable events and the venue's answer to an order (`ExecutionHandshake`).

`Fill` and `ExecutionHandshake` are slotted classes with their own `__init__`,
built once or twice per order: compiled with the hot path they are C structs
(a NamedTuple's or dataclass's generated `__init__` would stay interpreted
Python). `BarEvent` (per bar, only when something listens) is a NamedTuple.
`ErrorEvent` is what every error event of a run carries.
"""

from __future__ import annotations

import traceback as _traceback
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from isoloop.errors import Severity
from isoloop.model.orders import OrderStatus

__all__ = [
    "AccountSnapshot",
    "BarEvent",
    "ErrorEvent",
    "ExecutionHandshake",
    "Fill",
    "FillEvent",
    "OrderEvent",
    "PositionUpdate",
    "locate_failure",
]


class BarEvent(NamedTuple):
    bar: int
    time_ns: int


_FILL_FIELDS = ("order_id", "symbol", "venue", "qty", "price", "fee", "bar", "trade_id")


class Fill:
    """One execution: signed `qty` (+ buy, − sell) at `price`, with its fee.

    `trade_id` names the trade the fill opens or closes part of, when the venue
    keeps trades (the simulated venue does: one fill per trade touched); venues
    that do not leave it None and the books pair fills FIFO instead.

    A plain slotted class with its own `__init__` (not a NamedTuple): built once
    or more per order, and compiled with the hot path its construction and field
    reads stay in C. Read it as a record: equal field by field, hashable, and
    `as_dict()` gives the fields.
    """

    __slots__ = _FILL_FIELDS

    def __init__(
        self,
        order_id: str,
        symbol: str,
        venue: str,
        qty: float,
        price: float,
        fee: float,
        bar: int,
        trade_id: str | None = None,
    ) -> None:
        self.order_id = order_id
        self.symbol = symbol
        self.venue = venue
        self.qty = qty
        self.price = price
        self.fee = fee
        self.bar = bar
        self.trade_id = trade_id

    def _values(self) -> tuple[object, ...]:
        return (
            self.order_id,
            self.symbol,
            self.venue,
            self.qty,
            self.price,
            self.fee,
            self.bar,
            self.trade_id,
        )

    def as_dict(self) -> dict[str, object]:
        return dict(zip(_FILL_FIELDS, self._values(), strict=True))

    def _replace(self, **changes: Any) -> Fill:
        """A copy with `changes` (the NamedTuple spelling these records used to have)."""
        fields: dict[str, Any] = self.as_dict() | changes
        return Fill(**fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fill) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return _record_repr("Fill", _FILL_FIELDS, self._values())

    def __reduce__(self) -> tuple[type[Fill], tuple[object, ...]]:
        return (Fill, self._values())


_HANDSHAKE_FIELDS = (
    "order_id",
    "venue",
    "status",
    "fills",
    "deltas",
    "cash_delta",
    "fees",
    "bar",
    "reason",
)


class ExecutionHandshake:
    """What a venue reports for one order step: status, fills and the actual deltas.

    `deltas` maps position keys (`venue:position_type:symbol`) to the signed
    change in units; `cash_delta` is the venue account's cash change including
    `fees`. The position update handler applies exactly these numbers, then
    reconciles against the venue's account. A slotted record like `Fill`.
    """

    __slots__ = _HANDSHAKE_FIELDS

    def __init__(
        self,
        order_id: str,
        venue: str,
        status: OrderStatus,
        fills: tuple[Fill, ...] = (),
        deltas: tuple[tuple[str, float], ...] = (),
        cash_delta: float = 0.0,
        fees: float = 0.0,
        bar: int = -1,
        reason: str | None = None,
    ) -> None:
        self.order_id = order_id
        self.venue = venue
        self.status = status
        self.fills = fills
        self.deltas = deltas
        self.cash_delta = cash_delta
        self.fees = fees
        self.bar = bar
        self.reason = reason

    def _values(self) -> tuple[object, ...]:
        return (
            self.order_id,
            self.venue,
            self.status,
            self.fills,
            self.deltas,
            self.cash_delta,
            self.fees,
            self.bar,
            self.reason,
        )

    def as_dict(self) -> dict[str, object]:
        return dict(zip(_HANDSHAKE_FIELDS, self._values(), strict=True))

    def _replace(self, **changes: Any) -> ExecutionHandshake:
        """A copy with `changes` (the NamedTuple spelling these records used to have)."""
        fields: dict[str, Any] = self.as_dict() | changes
        return ExecutionHandshake(**fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExecutionHandshake) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return _record_repr("ExecutionHandshake", _HANDSHAKE_FIELDS, self._values())

    def __reduce__(self) -> tuple[type[ExecutionHandshake], tuple[object, ...]]:
        return (ExecutionHandshake, self._values())


def _record_repr(name: str, fields: tuple[str, ...], values: tuple[object, ...]) -> str:
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in zip(fields, values, strict=True))})"


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    venue: str
    cash: float
    positions: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrderEvent:
    order_id: str
    status: OrderStatus
    bar: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class FillEvent:
    fill: Fill


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    key: str
    qty: float
    cash: float
    bar: int


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """What an error event records, the same in a run's events and a failed manifest.

    `code` is the registered engine code (`EXEC-005`) or None for an error that
    is not an engine error (a strategy's own exception); such an error still
    failed its run, so its severity is CRITICAL. `component` is the slot whose
    code raised it and `operation` the method it was in (see `locate_failure`).
    """

    code: str | None
    severity: str
    component: str
    operation: str
    message: str
    traceback: str

    @classmethod
    def of(cls, exc: BaseException, *, component: str, operation: str) -> ErrorEvent:
        severity = getattr(exc, "severity", None)
        code = getattr(exc, "code", None)
        return cls(
            code=code if isinstance(code, str) else None,
            severity=str(severity) if isinstance(severity, Severity) else Severity.CRITICAL.value,
            component=component,
            operation=operation,
            # An engine error's message starts with its code; any other names its type.
            message=str(exc) if isinstance(code, str) else f"{type(exc).__name__}: {exc}",
            traceback="".join(_traceback.format_exception(exc)),
        )

    def fields(self) -> dict[str, Any]:
        """The event's keys, for `log.error(event, **fields)` and a manifest's `error`."""
        return asdict(self)


def locate_failure(
    exc: BaseException, components: Iterable[tuple[str, object]], default: str = "run"
) -> tuple[str, str]:
    """`(slot, method)` of the innermost frame of `exc`'s traceback that ran on one of
    the run's components, or `(default, function)` of the innermost frame.

    Found from the frames after the fact, so the bar loop pays nothing for it.
    """
    listed = list(components)
    owners = {id(obj): name for name, obj in listed}
    found: tuple[str, str] | None = None
    innermost = "unknown"
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        innermost = code.co_name
        owner = owners.get(id(tb.tb_frame.f_locals.get("self")))
        if owner is None and not tb.tb_frame.f_locals:
            owner = _compiled_owner(code.co_filename, code.co_name, listed)
        if owner is not None:
            found = (owner, code.co_name)
        tb = tb.tb_next
    return found if found is not None else (default, innermost)


def _compiled_owner(
    filename: str, function: str, components: list[tuple[str, object]]
) -> str | None:
    """The component whose class (or a base) defines `function` in `filename`.

    A frame of a module compiled by mypyc (tools/compile.py) has no locals, so no
    `self` to match; it still names its source file and function, and those are
    matched against the classes of the run's components."""
    path = filename.replace("\\", "/")
    for name, obj in components:
        for cls in type(obj).__mro__:
            if function in vars(cls) and path.endswith(cls.__module__.replace(".", "/") + ".py"):
                return name
    return None
