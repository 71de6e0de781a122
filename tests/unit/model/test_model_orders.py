"""The order state machine, position keys and the error-code registry."""

from __future__ import annotations

import itertools

import pytest

from isoloop.errors import ConfigError, IsoloopError
from isoloop.model import (
    ERROR_CODES,
    LEGAL_TRANSITIONS,
    TERMINAL_STATUSES,
    AtomicGroupError,
    EngineError,
    ExecutionError,
    IllegalTransition,
    Order,
    OrderStatus,
    PositionKey,
    ReconciliationError,
    RiskDenied,
    Severity,
    Side,
    StrategyParamError,
    position_key,
)

S = OrderStatus

# The lifecycle as the design states it, written out independently of the table.
EXPECTED_LEGAL = {
    (S.RECEIVED, S.VALIDATED),
    (S.RECEIVED, S.DENIED),
    (S.VALIDATED, S.ROUTED),
    (S.VALIDATED, S.DENIED),
    (S.VALIDATED, S.CANCELLED),
    (S.ROUTED, S.ACCEPTED),
    (S.ROUTED, S.REJECTED),
    (S.ACCEPTED, S.PARTIAL),
    (S.ACCEPTED, S.FILLED),
    (S.ACCEPTED, S.CANCELLED),
    (S.ACCEPTED, S.REJECTED),
    (S.ACCEPTED, S.EXPIRED),
    (S.ACCEPTED, S.PENDING_CANCEL),
    (S.PARTIAL, S.PARTIAL),
    (S.PARTIAL, S.FILLED),
    (S.PARTIAL, S.CANCELLED),
    (S.PARTIAL, S.EXPIRED),
    (S.PARTIAL, S.PENDING_CANCEL),
    (S.PENDING_CANCEL, S.CANCELLED),
    (S.PENDING_CANCEL, S.PARTIAL),
    (S.PENDING_CANCEL, S.FILLED),
}

PATH_TO = {
    S.RECEIVED: [],
    S.VALIDATED: [S.VALIDATED],
    S.DENIED: [S.DENIED],
    S.ROUTED: [S.VALIDATED, S.ROUTED],
    S.ACCEPTED: [S.VALIDATED, S.ROUTED, S.ACCEPTED],
    S.REJECTED: [S.VALIDATED, S.ROUTED, S.REJECTED],
    S.PARTIAL: [S.VALIDATED, S.ROUTED, S.ACCEPTED, S.PARTIAL],
    S.PENDING_CANCEL: [S.VALIDATED, S.ROUTED, S.ACCEPTED, S.PENDING_CANCEL],
    S.FILLED: [S.VALIDATED, S.ROUTED, S.ACCEPTED, S.FILLED],
    S.CANCELLED: [S.VALIDATED, S.ROUTED, S.ACCEPTED, S.CANCELLED],
    S.EXPIRED: [S.VALIDATED, S.ROUTED, S.ACCEPTED, S.EXPIRED],
}


def order_in(status: OrderStatus) -> Order:
    o = Order("O1", "GOOG", Side.BUY, 10)
    for step in PATH_TO[status]:
        o.transition(step)
    assert o.status is status
    return o


def test_table_matches_the_designed_lifecycle() -> None:
    table = {(a, b) for a, nxt in LEGAL_TRANSITIONS.items() for b in nxt}
    assert table == EXPECTED_LEGAL
    assert {S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED, S.DENIED} == TERMINAL_STATUSES


@pytest.mark.parametrize(("src", "dst"), sorted(EXPECTED_LEGAL, key=str))
def test_legal_transition(src: OrderStatus, dst: OrderStatus) -> None:
    o = order_in(src)
    o.transition(dst, reason="because")
    assert o.status is dst
    assert o.reason == "because"


ILLEGAL = sorted(
    (set(itertools.product(S, S)) - EXPECTED_LEGAL), key=lambda p: (p[0].value, p[1].value)
)


@pytest.mark.parametrize(("src", "dst"), ILLEGAL)
def test_illegal_transition_raises(src: OrderStatus, dst: OrderStatus) -> None:
    o = order_in(src)
    with pytest.raises(IllegalTransition) as info:
        o.transition(dst)
    assert o.status is src  # unchanged
    assert info.value.code == "EXEC-003"
    assert src.value in str(info.value) and dst.value in str(info.value)


def test_partial_fills_average_price_and_complete() -> None:
    o = order_in(S.ACCEPTED)
    o.record_fill(4, 100.0, bar=3)
    assert o.status is S.PARTIAL and o.filled == 4 and o.remaining == 6
    o.record_fill(6, 110.0, bar=4)
    assert o.status is S.FILLED
    assert o.avg_price == pytest.approx((4 * 100 + 6 * 110) / 10)
    assert o.last_fill_bar == 4
    rec = o.to_record()
    assert rec["status"] == "FILLED" and rec["filled"] == 10 and rec["last_fill_bar"] == 4


def test_position_keys() -> None:
    assert position_key("binance", "perp", "BTCUSD") == "binance:perp:BTCUSD"
    assert PositionKey.parse("sim:spot:GOOG") == PositionKey("sim", "spot", "GOOG")
    assert str(PositionKey("a", "b", "c")) == "a:b:c"
    with pytest.raises(ValueError, match="venue:position_type:symbol"):
        PositionKey.parse("sim:GOOG")


def test_error_registry_and_hierarchy() -> None:
    assert [*(f"EXEC-{i:03d}" for i in range(1, 9)), "RISK-001"] == sorted(ERROR_CODES)
    for spec in ERROR_CODES.values():
        assert isinstance(spec.severity, Severity) and spec.resolution and spec.title
    assert ERROR_CODES["EXEC-005"].severity is Severity.CRITICAL
    assert "reconciliation" in ERROR_CODES["EXEC-005"].title
    assert ERROR_CODES["EXEC-006"].title == "atomic group rollback"
    for cls, code in (
        (ExecutionError, "EXEC-001"),
        (RiskDenied, "EXEC-002"),
        (IllegalTransition, "EXEC-003"),
        (ReconciliationError, "EXEC-005"),
        (AtomicGroupError, "EXEC-006"),
    ):
        err = cls("boom")
        assert isinstance(err, EngineError) and isinstance(err, IsoloopError)
        assert err.code == code and str(err).startswith(code)
        assert err.severity is ERROR_CODES[code].severity
    assert issubclass(StrategyParamError, ConfigError)
    assert not issubclass(ReconciliationError, SystemExit)
