"""The strategy facade: an order gateway through risk and read-only books, nothing more."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from isoloop.engine import (
    BlockView,
    EventBus,
    ExecutionManager,
    OrderGateway,
    OrderView,
    PositionMonitor,
    PositionUpdateHandler,
    RiskManager,
    SimulatedClock,
    Strategy,
    VenueInterfaceManager,
)
from isoloop.model import OrderStatus, Side
from isoloop.venues import SimulatedVenue
from support.harness import Run, build, make_config, market
from support.scripted import Scripted, frame

BAR = (100.0, 101.0, 99.0, 100.0, 1_000.0)
ENGINE_TYPES = (
    ExecutionManager,
    PositionMonitor,
    PositionUpdateHandler,
    RiskManager,
    VenueInterfaceManager,
    SimulatedVenue,
    SimulatedClock,
    EventBus,
)
# What only the engine (or an operator) may call: none of it is reachable from a strategy.
ENGINE_ONLY = (
    "skip_risk",
    "liquidate_all",
    "close_all",
    "finish",
    "apply",
    "update_state",
    "submit_block",
    "new_order",
    "trip",
    "reset",
    "execution",
    "positions_monitor",
    "risk",
    "sleep",
)


def run(script: dict[int, Any], bars: int = 6, finalize: bool = False, **risk: Any) -> Run:
    cfg = make_config(data__symbol="X", **{f"risk__{k}": v for k, v in risk.items()})
    operator: dict[str, Any] = {}
    r = build(
        cfg,
        market(("X", frame([BAR] * bars))),
        Scripted,
        {"script": script, "operator": operator},
    )
    operator["risk"] = r.risk
    r.engine._finalize = finalize
    r.engine.run()
    return r


def built() -> Run:
    cfg = make_config(data__symbol="X")
    return build(cfg, market(("X", frame([BAR] * 4))), Scripted, {})


def test_a_strategy_holds_no_engine_component() -> None:
    s = built().strategy
    assert isinstance(s.gateway, OrderGateway)
    # Everything the strategy object holds, public or private, and everything public
    # on its facade objects: no execution manager, books, risk manager, venue or clock.
    held = list(vars(s).values())
    for facade in (s.gateway, s.books, s.clock):
        held += [getattr(facade, n) for n in dir(facade) if not n.startswith("_")]
    for value in held:
        owner = getattr(value, "__self__", value)  # a bound method's object
        assert not isinstance(owner, ENGINE_TYPES), value
    for obj in (s, s.gateway, s.books, s.clock):
        for name in ENGINE_ONLY:
            assert not hasattr(obj, name), f"{type(obj).__name__}.{name}"


def test_the_gateway_has_no_way_to_skip_risk() -> None:
    s = built().strategy
    # Called, not inspected: the gateway is compiled (tools/compile.py) and a compiled
    # method has no readable signature; an unknown keyword is refused before any work.
    calls = {
        "gateway.submit": lambda **kw: s.gateway.submit("X", Side.BUY, 1, **kw),
        "gateway.close": lambda **kw: s.gateway.close("X", **kw),
        "gateway.block": lambda **kw: s.gateway.block([s.leg(Side.BUY, 1)], **kw),
        "order": lambda **kw: s.order(Side.BUY, 1, **kw),
        "buy": lambda **kw: s.buy(1, **kw),
    }
    for name, call in calls.items():
        for keyword in ("skip_risk", "front"):
            with pytest.raises(TypeError):
                call(**{keyword: True})
            assert not s.orders, f"{name}({keyword}=True) placed an order"


def test_orders_over_a_risk_limit_are_denied_through_every_path() -> None:
    def place(s: Any) -> None:
        s.placed.append(s.buy(11))
        s.placed.append(s.gateway.submit("X", Side.BUY, 11, tag="raw"))
        s.placed.append(s.block([s.leg(Side.BUY, 11)]))
        s.placed.append(s.buy(10))

    r = run({1: place}, max_order_size=10.0)
    over, raw, block, ok = r.strategy.placed
    assert over.status is raw.status is OrderStatus.DENIED
    assert over.reason.startswith("max_order_size") and raw.reason.startswith("max_order_size")
    assert isinstance(block, BlockView) and block.status == "denied"
    assert block.legs[0].status is OrderStatus.DENIED
    assert ok.status is OrderStatus.FILLED and ok.filled == 10.0
    assert r.venue.positions == {"sim:spot:X": 10.0}


def test_writing_to_the_books_view_raises_and_copies_change_nothing() -> None:
    seen: dict[str, Any] = {}

    def probe(s: Any) -> None:
        books = s.books
        assert isinstance(books.positions, MappingProxyType)
        with pytest.raises(TypeError):
            books.positions["sim:spot:X"] = 1e6
        with pytest.raises(TypeError):
            books.cash["sim"] = 1e9
        with pytest.raises(TypeError):
            del books.positions["sim:spot:X"]
        with pytest.raises(AttributeError):
            books.positions = {}
        with pytest.raises(AttributeError):
            s.clock.bar = 0
        copy = books.positions.copy()
        copy["sim:spot:X"] = 1e6
        seen["held"] = books.position("sim:spot:X")
        seen["cash"] = books.cash["sim"]
        seen["equity"] = books.equity()

    r = run({1: lambda s: s.buy(5), 3: probe})
    assert seen["held"] == 5.0 == r.positions.position("sim:spot:X")
    assert seen["cash"] == r.positions.cash["sim"] == r.venue.cash
    assert seen["equity"] == pytest.approx(r.positions.equity(3))


def test_orders_come_back_read_only_so_approved_orders_cannot_be_resized() -> None:
    def place(s: Any) -> None:
        o = s.buy(1, limit=50.0)  # rests: the market is at 100
        s.placed.append(o)
        with pytest.raises(AttributeError):
            o.size = 1_000.0
        with pytest.raises(AttributeError):
            o.status = OrderStatus.FILLED
        assert not hasattr(o, "transition") and not hasattr(o, "record_fill")
        assert s.books.working_orders() == (o,)

    def cancel(s: Any) -> None:
        s.cancel(s.books.working_orders()[0])
        assert s.books.working_orders() == ()

    r = run({1: place, 3: cancel}, max_order_size=10.0)
    o = r.strategy.placed[0]
    assert isinstance(o, OrderView) and o.size == 1.0
    assert o.status is OrderStatus.CANCELLED
    assert r.execution.orders[0].size == 1.0


def test_close_flattens_through_risk() -> None:
    def halt_and_close(s: Any) -> Any:
        s.params["operator"]["risk"].trip("HALTED", "operator says stop")
        return s.close()

    def resume_and_close(s: Any) -> Any:
        s.params["operator"]["risk"].reset("resume")
        return s.close()

    r = run({1: lambda s: s.buy(7), 2: halt_and_close, 3: resume_and_close, 4: lambda s: s.close()})
    bought, denied, closed = r.strategy.placed  # Scripted keeps what each step returns
    assert bought.status is OrderStatus.FILLED
    # While HALTED the close is denied like any other order: close never skips risk.
    assert denied.status is OrderStatus.DENIED and "HALTED" in denied.reason
    assert closed.reduce_only and closed.side is Side.SELL and closed.size == 7.0
    assert closed.status is OrderStatus.FILLED
    assert r.positions.position("sim:spot:X") == 0.0 == r.venue.positions["sim:spot:X"]
    assert [o.status for o in r.execution.orders] == [
        OrderStatus.FILLED,
        OrderStatus.DENIED,
        OrderStatus.FILLED,
    ]  # flat at bar 4: close() placed nothing


def test_block_legs_are_drafted_once_and_sent_once() -> None:
    errors: list[str] = []

    def place(s: Any) -> None:
        a, b = s.leg(Side.BUY, 2), s.leg(Side.BUY, 3)
        s.placed.append(s.block([a, b]))
        for bad in ([a], [s.buy(1)], [s.leg(Side.BUY, 1)] * 2):
            with pytest.raises(ValueError, match="leg") as exc:
                s.block(bad)
            errors.append(str(exc.value))
        with pytest.raises(ValueError, match="queued instruction block"):
            s.cancel(s.placed[0].legs[0])

    r = run({1: place})
    block = r.strategy.placed[0]
    assert block.status == "filled"
    assert [leg.filled for leg in block.legs] == [2.0, 3.0]
    assert isinstance(block.legs, tuple)
    assert len(errors) == 3
    assert r.venue.positions == {"sim:spot:X": 6.0}  # 2 + 3 from the block, 1 from buy(1)


class _Tagging(Strategy):
    """Overrides `order`: every order it places carries a tag, `buy`/`sell` included."""

    def init(self) -> None:
        self.seen: list[Side] = []

    def order(self, side: Side, size: float | None = None, **kw: Any) -> OrderView:
        self.seen.append(side)
        return super().order(side, size, tag="mine", **kw)

    def on_bar(self, i: int) -> None:
        if i == 1:
            self.buy()
        elif i == 2:
            self.sell(2)


def test_buy_and_sell_go_through_an_overridden_order() -> None:
    cfg = make_config(data__symbol="X")
    r = build(cfg, market(("X", frame([BAR] * 5))), _Tagging, {})
    r.engine.run()
    assert r.strategy.seen == [Side.BUY, Side.SELL]
    # (and the engine's end-of-run close, its own order, is not the strategy's)
    assert [o.tag for o in r.execution.orders] == ["mine", "mine", "finalize"]


def test_buy_and_sell_place_what_order_places() -> None:
    # The same orders whether a strategy calls buy()/sell() or order() with the side.
    def orders(script: dict[int, Any]) -> list[dict[str, Any]]:
        return [o.to_record() for o in run(script, bars=8).execution.orders]

    short = {
        1: lambda s: s.buy(),
        2: lambda s: s.sell(0.5),
        3: lambda s: s.buy(3),
        4: lambda s: s.sell(),
    }
    long = {
        1: lambda s: s.order(Side.BUY),
        2: lambda s: s.order(Side.SELL, 0.5),
        3: lambda s: s.order(Side.BUY, 3),
        4: lambda s: s.order(Side.SELL),
    }
    assert orders(short) == orders(long)
    assert len(orders(short)) == 4
