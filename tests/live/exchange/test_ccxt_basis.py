"""The basis strategy (long spot, short perp, one instruction block with rollback) live
on the loopback exchange in its own container (`basis_live`: ccxt spot and perp venues),
beside a second strategy on another exchange account: both reconciled after every
fill, books equal to the exchange, and the basis orders are the backtest's orders on
the same bars (same venues, sides, sizes and bars)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from isoloop import run_backtest
from isoloop.live import LiveTradingManager, read_account_rows
from support.exchange_live import (
    ENV,
    FAKE_KEY,
    FAKE_SECRET,
    SYMBOL,
    bars_frame,
    exchange_live_config,
    exchange_strategy,
    lockstep,
    write_csv,
)
from support.live_helpers import state_of
from support.loopback_exchange import LoopbackExchange

N = 14
BASIS = "isoloop.examples.basis:BasisTrade"
PARAMS = {"units": 2, "enter_bar": 3, "exit_bar": 9}


def _record(o: Any) -> tuple[str, str, float, int, str]:
    return (o["venue"], o["side"], o["size"], o["submitted_bar"], o["status"])


def test_basis_live_beside_a_second_strategy_trades_the_backtests_orders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    frame = bars_frame(N, seed=21)
    csv = write_csv(frame, tmp_path)
    keys = {"api_key": FAKE_KEY, "secret": FAKE_SECRET}
    with (
        LoopbackExchange({"BTCUSDT": frame}, **keys) as ex,
        LoopbackExchange({"BTCUSDT": frame}, **keys) as other_ex,
    ):
        basis = {
            "name": "basis",
            "container": "basis_live",
            "strategy": {"class": BASIS, "params": PARAMS},
            "venue": {
                "cash": 100000.0,
                "exchange": {
                    "id": "binance",
                    "market": "spot",
                    "sandbox": True,
                    "urls": ex.urls,
                    "symbols": {SYMBOL: "BTC/USDT"},
                },
            },
            "execution": {"retry_delay_seconds": 0.05},
        }
        other = exchange_strategy(
            "other",
            Path("binance_spot"),
            other_ex.urls,
            params={"buy_bars": [2, 7], "sell_bars": [5], "units": 0.5},
        )
        other["container"] = "binance_spot"
        m = LiveTradingManager(exchange_live_config(tmp_path / "state", csv, [basis, other], N))
        m.start(api=False, feed=False)
        try:
            lockstep(m, [ex, other_ex], range(N))
            states = {n: state_of(m, n) for n in ("basis", "other")}
            scopes = {n: m.container(n)._scope for n in states}
            execution = scopes["basis"].get("execution")
            live = [_record(o.to_record()) for o in execution.orders]
            blocks = [b.status for b in execution.blocks]
            updates = {n: s.get("position_updates") for n, s in scopes.items()}
            books = scopes["basis"].get("positions")
            fills = {n: len(s.get("position_updates").trades.closed) for n, s in scopes.items()}
            balances, positions = ex.balances(), ex.positions()
            exchange_orders = ex.orders()
        finally:
            m.shutdown()

    for n, st in states.items():
        assert st["state"] == "running", st
        assert updates[n].mismatches == 0
        assert updates[n].reconciliations >= updates[n].updates + N - 1
    assert fills["basis"] >= 2  # the spot and the perp trade closed
    expected = run_backtest(
        {
            "container": "basis",
            "strategy": {"class": BASIS, "params": PARAMS},
            "data": {"source": f"csv:{csv}"},
            "venue": {"cash": 100000.0},
            "finalize_trades": False,
        }
    )
    assert live == [_record(o) for o in expected.orders]
    assert blocks == ["filled", "filled"]
    assert len(live) == 4 and len(exchange_orders) == 4
    # Books equal the exchange: flat on both legs, cash as the exchange's account says.
    assert not any(books.positions.values())
    assert positions.get("BTCUSDT", {}).get("amount", 0.0) == 0.0
    assert books.cash["spot"] == pytest.approx(balances["spot"]["USDT"]["free"])
    assert books.cash["perp"] == pytest.approx(balances["futures"]["USDT"]["wallet"])
    # The store holds both legs' fills, numbered in turn (no fill of either venue lost).
    rows = read_account_rows(tmp_path / "state" / "live.sqlite", "basis")
    assert [(f["seq"], f["venue"], f["qty"]) for f in rows["fills"]] == [
        (0, "spot", 2.0),
        (1, "perp", -2.0),
        (2, "spot", -2.0),
        (3, "perp", 2.0),
    ]


def test_a_perp_leg_refused_by_maintenance_rolls_the_spot_leg_back_then_the_block_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    frame = bars_frame(8, seed=21)
    csv = write_csv(frame, tmp_path)
    with LoopbackExchange({"BTCUSDT": frame}, api_key=FAKE_KEY, secret=FAKE_SECRET) as ex:
        basis = {
            "name": "basis",
            "container": "basis_live",
            "strategy": {"class": BASIS, "params": {"units": 1, "enter_bar": 3}},
            "venue": {
                "exchange": {
                    "id": "binance",
                    "sandbox": True,
                    "urls": ex.urls,
                    "symbols": {SYMBOL: "BTC/USDT"},
                }
            },
            "execution": {"retry_delay_seconds": 0.05},
        }
        m = LiveTradingManager(exchange_live_config(tmp_path / "state", csv, [basis], 8))
        m.start(api=False, feed=False)
        try:
            lockstep(m, ex, range(4))
            # The block placed on bar 3 runs at bar 4: its perp leg meets maintenance once.
            ex.inject("maintenance", endpoint="POST /fapi/v1/order")
            lockstep(m, ex, range(4, 6))
            st = state_of(m, "basis")
            scope = m.container("basis")._scope
            block = scope.get("execution").blocks[0]
            books = scope.get("positions")
            orders = ex.orders()
            balances = ex.balances()
            positions = ex.positions()
        finally:
            m.shutdown()

    assert st["state"] == "running", st
    # Spot bought, perp refused, spot sold back (the rollback), then both legs again.
    assert [(o["market"], o["side"]) for o in orders] == [
        ("spot", "BUY"),
        ("spot", "SELL"),
        ("spot", "BUY"),
        ("perp", "SELL"),
    ]
    assert block.status == "filled" and len(block.unwinds) == 1
    assert [str(leg.status) for leg in block.retried_legs] == ["FILLED", "REJECTED"]
    assert books.positions == {
        f"spot:spot:{SYMBOL}": pytest.approx(1.0),
        f"perp:perp:{SYMBOL}": pytest.approx(-1.0),
    }
    assert balances["spot"]["BTC"]["free"] == pytest.approx(1.0)
    assert positions["BTCUSDT"]["amount"] == pytest.approx(-1.0)
    assert books.cash["spot"] == pytest.approx(balances["spot"]["USDT"]["free"])
