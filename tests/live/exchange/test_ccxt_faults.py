"""Each network fault of a real exchange, injected by the loopback exchange on the order
request of one bar, is recovered or failed as its severity says (docs/errors.md), with
the requests the adapter made counted: never a second order for one client id, never a
lost fill, books equal to the exchange at the end."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from isoloop.live import LiveTradingManager
from support.exchange_live import (
    ENV,
    FAKE_KEY,
    FAKE_SECRET,
    SYMBOL,
    bars_frame,
    ccxt_blueprint,
    exchange_live_config,
    exchange_strategy,
    lockstep,
    write_csv,
)
from support.live_helpers import state_of
from support.loopback_exchange import LoopbackExchange

N = 16
POST, GET = "POST /api/v3/order", "GET /api/v3/order"
# bar -> (fault, its options, POSTs expected, the order's fate)
FAULTS: dict[int, tuple[str, dict[str, Any], int, str]] = {
    # Held past the client's timeout, applied first: the lookup by client id finds it.
    2: ("timeout", {"seconds": 1.5, "apply_first": True}, 1, "FILLED"),
    # 503 before applying: not at the exchange, so sent again (HIGH, retried) with the same id.
    4: ("5xx", {"status": 503}, 2, "FILLED"),
    # 429 with Retry-After: not applied; retried after the wait the exchange asked for.
    6: ("429", {"retry_after": 1}, 2, "FILLED"),
    # The connection drops after the exchange applied it: found by client id, adopted.
    8: ("drop_after_apply", {}, 1, "FILLED"),
    # The connection drops before: not found, sent again.
    10: ("drop_before_apply", {}, 2, "FILLED"),
    # Maintenance (MEDIUM): the order is rejected, the container runs on, degraded.
    12: ("maintenance", {}, 1, "REJECTED"),
}
ORDER_BARS = [*sorted(FAULTS), 14]


def test_each_fault_is_recovered_or_failed_as_its_severity_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    frame = bars_frame(N, seed=5)
    csv = write_csv(frame, tmp_path)
    bp = ccxt_blueprint(tmp_path)
    # Alternate buys and sells so the spot account never runs out of base asset.
    params = {"buy_bars": ORDER_BARS[0::2], "sell_bars": ORDER_BARS[1::2], "units": 0.5}
    counts: dict[int, dict[str, int]] = {}
    took: dict[int, float] = {}
    with LoopbackExchange({"BTCUSDT": frame}, api_key=FAKE_KEY, secret=FAKE_SECRET) as ex:
        strat = exchange_strategy("faulty", bp, ex.urls, params=params)
        strat["venue"]["exchange"]["timeout_ms"] = 500
        cfg = exchange_live_config(tmp_path / "state", csv, [strat], bars=N)
        m = LiveTradingManager(cfg)
        m.start(api=False, feed=False)
        try:
            for i in range(N):
                if i in FAULTS:
                    kind, options, _, _ = FAULTS[i]
                    ex.inject(kind, endpoint=POST, **options)
                before = ex.requests
                t0 = time.monotonic()
                lockstep(m, ex, range(i, i + 1))
                took[i] = time.monotonic() - t0
                ex.clear_faults()
                after = ex.requests
                counts[i] = {k: after.get(k, 0) - before.get(k, 0) for k in (POST, GET)}
            state = state_of(m, "faulty")
            scope = m.container("faulty")._scope
            orders = {o.submitted_bar: o for o in scope.get("execution").orders}
            books = scope.get("positions")
            venue = scope.get("venue")
            exec_health = scope.get("execution").health()
        finally:
            m.shutdown()

    assert state["state"] == "running", state
    for bar, (kind, _, posts, fate) in FAULTS.items():
        assert counts[bar][POST] == posts, (kind, counts[bar])
        assert str(orders[bar].status) == fate, (kind, orders[bar])
    # Rate limit held: the resend waited the Retry-After the exchange sent (a lower bound).
    assert took[6] >= 1.0
    # The ambiguous faults were answered by a lookup (GET by client id), not a blind resend.
    for bar in (2, 4, 8, 10):
        assert counts[bar][GET] >= 1, (FAULTS[bar][0], counts[bar])
    assert venue.client.faults == {
        "timeout": 1,
        "server": 1,
        "rate_limit": 1,
        "dropped": 2,
        "maintenance": 1,
    }
    # Severity: HIGH faults were retried (exec health counts them), MEDIUM degraded the run.
    snap = exec_health.detail["execution"]
    assert exec_health.status == "degraded", snap
    # One exchange order per filled strategy order: no duplicates, no lost fills.
    filled = [o for o in orders.values() if str(o.status) == "FILLED"]
    on_exchange = ex.orders()
    assert len(on_exchange) == len(filled) == len(ORDER_BARS) - 1
    assert len({o["client_order_id"] for o in on_exchange}) == len(on_exchange)
    assert len(ex.fills()) == len(filled)
    # Books equal the exchange.
    spot = ex.balances()["spot"]
    held = spot["BTC"]["free"] + spot["BTC"]["locked"]
    assert books.venue_positions("spot").get(f"spot:spot:{SYMBOL}", 0.0) == pytest.approx(held)
    assert books.cash["spot"] == pytest.approx(spot["USDT"]["free"] + spot["USDT"]["locked"])
