"""Pre-trade risk checks, throttling, rate limit and the kill switch."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from isoloop.logging import MemorySink, make_run_logger
from isoloop.model import OrderStatus, OrderType, Side
from support.harness import build, make_config, market
from support.scripted import Scripted, frame

BAR = (100.0, 101.0, 99.0, 100.0, 1_000.0)


def run(
    script: dict[int, Any], rows: list[Any] | None = None, freq: str = "D", **risk: Any
) -> tuple[Any, MemorySink]:
    sink = MemorySink()
    log = make_run_logger(sink, run_id="risk", container_id="c")
    overrides = {f"risk__{k}": v for k, v in risk.items() if not k.startswith("venue__")}
    overrides.update({k: v for k, v in risk.items() if k.startswith("venue__")})
    cfg = make_config(data__symbol="X", **overrides)
    # The operator's handle on the run (the kill switch); a strategy itself has none.
    operator: dict[str, Any] = {}
    r = build(
        cfg,
        market(("X", frame(rows or [BAR] * 6, freq))),
        Scripted,
        {"script": script, "operator": operator},
        log=log,
    )
    operator["risk"] = r.risk
    r.engine._finalize = False
    r.engine.run()
    return r, sink


def statuses(r: Any) -> list[tuple[str, str | None]]:
    return [(o.status.value, o.reason) for o in r.execution.orders]


def test_no_limits_configured_lets_orders_through() -> None:
    r, _ = run({1: lambda s: s.buy(10)})
    assert statuses(r)[0][0] == "FILLED"


def test_parameters_check_denies_bad_orders() -> None:
    def bad(s: Any) -> None:
        gw = s.gateway
        gw.submit("X", Side.BUY, -5)
        gw.submit("X", Side.BUY, float("nan"))
        gw.submit("X", Side.BUY, 5, type=OrderType.LIMIT)
        gw.submit("X", Side.BUY, 5, type=OrderType.STOP, stop=-1.0)
        gw.submit("X", Side.BUY, 5, type=OrderType.MARKET, limit=90.0)

    r, sink = run({1: bad})
    st = statuses(r)
    assert [s for s, _ in st] == ["DENIED"] * 5
    assert all(reason.startswith("parameters:") for _, reason in st)
    denied = [e for e in sink.records() if e["event"] == "order_denied"]
    assert len(denied) == 5 and denied[0]["code"] == "EXEC-002"


def test_max_order_size() -> None:
    r, _ = run({1: lambda s: (s.buy(11), s.buy(10))}, max_order_size=10.0)
    assert [s for s, _ in statuses(r)] == ["DENIED", "FILLED"]
    assert statuses(r)[0][1].startswith("max_order_size")


def test_max_position_counts_the_existing_position_but_lets_reductions_through() -> None:
    r, _ = run({1: lambda s: s.buy(8), 2: lambda s: (s.buy(5), s.sell(8))}, max_position=10.0)
    assert [s for s, _ in statuses(r)] == ["FILLED", "DENIED", "FILLED"]
    assert statuses(r)[1][1].startswith("max_position")


def test_concentration_limit() -> None:
    # 30 units · 100 = 3,000 of 10,000 equity = 30 % > 25 %
    r, _ = run({1: lambda s: (s.buy(30), s.buy(20))}, max_concentration=0.25)
    assert [s for s, _ in statuses(r)] == ["DENIED", "FILLED"]
    assert statuses(r)[0][1].startswith("concentration")


def test_trading_hours() -> None:
    # Hourly bars from 10:00; trading allowed 12:00–13:00 only.
    r, _ = run(
        {1: lambda s: s.buy(1), 2: lambda s: s.buy(1), 4: lambda s: s.buy(1)},
        freq="h",
        trading_hours=(time(12, 0), time(13, 0)),
    )
    st = statuses(r)
    assert [s for s, _ in st] == ["DENIED", "FILLED", "DENIED"]
    assert st[0][1].startswith("trading_hours")


def test_daily_loss_limit_denies_new_exposure_and_trips_reducing() -> None:
    rows = [BAR, BAR, BAR, (100.0, 100.0, 80.0, 80.0, 1000.0), BAR, BAR]
    r, sink = run(
        {1: lambda s: s.buy(50), 3: lambda s: (s.buy(1), s.sell(10))},
        rows=rows,
        freq="h",
        daily_loss_limit=500.0,
    )
    # At bar 3 the 50 units lost 50 · 20 = 1,000 today.
    assert [s for s, _ in statuses(r)] == ["FILLED", "DENIED", "FILLED"]
    assert statuses(r)[1][1].startswith("daily_loss_limit")
    assert r.risk.state == "REDUCING"
    assert r.risk.audit_log[-1]["to"] == "REDUCING" and r.risk.audit_log[-1]["by"] == "risk"
    assert any(e["event"] == "kill_switch" for e in sink.records())


def test_order_rate_limit_per_bar() -> None:
    r, _ = run(
        {1: lambda s: [s.buy(1) for _ in range(4)], 2: lambda s: s.buy(1)}, max_orders_per_bar=2
    )
    assert [s for s, _ in statuses(r)] == ["FILLED", "FILLED", "DENIED", "DENIED", "FILLED"]
    assert statuses(r)[2][1].startswith("rate_limit")


def test_volume_participation_throttles_the_size() -> None:
    r, _ = run({1: lambda s: s.buy(80)}, max_volume_participation=0.05)  # 5 % of 1,000
    o = r.execution.orders[0]
    assert (o.status, o.size, o.filled) == (OrderStatus.FILLED, 50.0, 50.0)


def test_spread_throttles_the_size() -> None:
    # Spread 20 bps against a 10 bps limit halves the order.
    r, _ = run({1: lambda s: s.buy(40)}, max_spread_bps=10.0, venue__spread=0.002)
    assert r.execution.orders[0].size == 20.0


def test_volatility_throttles_the_size() -> None:
    closes = [100.0, 110.0] * 15
    rows = [(c, c + 1, c - 1, c, 1000.0) for c in closes]
    r, _ = run({25: lambda s: s.buy(10)}, rows=rows, max_volatility=0.01)
    o = r.execution.orders[0]
    assert 0 < o.size < 10  # shrunk by max_volatility / realized volatility (≈0.098)
    assert o.size == pytest.approx(10 * 0.01 / 0.0977, abs=1)


def test_kill_switch_active_halted_reducing() -> None:
    def step1(s: Any) -> None:
        s.buy(10)

    def step2(s: Any) -> None:
        s.params["operator"]["risk"].trip("HALTED", "operator says stop")
        s.placed.append(s.buy(1, limit=50.0))  # denied

    def step3(s: Any) -> None:
        # A limit order placed before the halt cannot exist; place one, halt, then cancel it.
        s.params["operator"]["risk"].reset("resume")
        working = s.buy(1, limit=50.0)
        s.params["operator"]["risk"].trip("HALTED", "again")
        s.cancel(working)  # cancels pass while HALTED
        s.placed.append(working)

    def step4(s: Any) -> None:
        s.params["operator"]["risk"].trip("REDUCING", "wind down")
        s.buy(1)  # increases exposure: denied
        s.sell(4)  # reduces: accepted

    r, sink = run({1: step1, 2: step2, 3: step3, 4: step4})
    st = [(o.side.value, o.status.value) for o in r.execution.orders]
    assert st == [
        ("BUY", "FILLED"),
        ("BUY", "DENIED"),
        ("BUY", "CANCELLED"),
        ("BUY", "DENIED"),
        ("SELL", "FILLED"),
    ]
    reasons = [o.reason for o in r.execution.orders]
    assert "HALTED" in reasons[1] and "REDUCING" in reasons[3]
    assert [a["to"] for a in r.risk.audit_log] == ["HALTED", "ACTIVE", "HALTED", "REDUCING"]
    assert all({"bar", "time", "from", "to", "reason", "by"} <= set(a) for a in r.risk.audit_log)
    assert sum(e["event"] == "kill_switch" for e in sink.records()) == 4
    assert r.risk.health().status == "degraded"


def test_kill_switch_state_from_config() -> None:
    r, _ = run({1: lambda s: s.buy(1)}, kill_switch="HALTED")
    assert statuses(r)[0][0] == "DENIED"
    assert r.risk.audit_log[0]["by"] == "config"
