"""Two live containers on the ccxt venue (unmodified ccxt Binance client) against the
loopback exchange, stepped in lockstep: their orders are the backtest's orders on the
same bars, every fill is reconciled against the exchange's account, and the books end
equal to the exchange."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from isoloop import run_backtest
from isoloop.live import LiveTradingManager
from support.exchange_live import (
    ENV,
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

N = 24
SPOT = {"buy_bars": [3, 9, 15], "sell_bars": [6, 12], "units": 0.5}
PERP = {"buy_bars": [8, 14], "sell_bars": [4, 10], "units": 0.25}


def _backtest_orders(csv: Path, params: dict[str, Any]) -> list[tuple[str, float, int, float]]:
    """The same strategy in a backtest on the same bars; market orders fill at the close of
    the bar they were placed on, as the loopback exchange fills them."""
    result = run_backtest(
        {
            "strategy": {"class": "support.exchange_live:ExchangeScript", "params": params},
            "data": {"source": f"csv:{csv}"},
            "venue": {"cash": 100000.0, "fill": {"on": "close"}},
            "finalize_trades": False,
        }
    )
    return [
        (o["side"], o["size"], o["submitted_bar"], o["avg_price"])
        for o in result.orders
        if o["status"] == "FILLED"
    ]


def test_spot_and_perp_containers_trade_the_backtests_orders_reconciled_after_every_fill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    frame = bars_frame(N)
    csv = write_csv(frame, tmp_path)
    bp = ccxt_blueprint(tmp_path)
    with LoopbackExchange(
        {"BTCUSDT": frame},
        api_key=ENV["BASIS_TESTNET__CEX__BINANCE_SPOT_API_KEY"],
        secret=ENV["BASIS_TESTNET__CEX__BINANCE_SPOT_SECRET"],
    ) as ex:
        cfg = exchange_live_config(
            tmp_path / "state",
            csv,
            [
                exchange_strategy("spot_one", bp, ex.urls, market="spot", params=SPOT),
                exchange_strategy("perp_two", bp, ex.urls, market="perp", params=PERP),
            ],
            bars=N,
        )
        m = LiveTradingManager(cfg)
        m.start(api=False, feed=False)
        try:
            lockstep(m, ex, range(N))
            states = {n: state_of(m, n) for n in ("spot_one", "perp_two")}
            scopes = {n: m.container(n)._scope for n in states}
            updates = {n: s.get("position_updates") for n, s in scopes.items()}
            books = {n: s.get("positions") for n, s in scopes.items()}
            execs = {n: s.get("execution") for n, s in scopes.items()}
            venues = {n: s.get("venue") for n, s in scopes.items()}
            live_orders = {
                n: [
                    (str(o.side), o.size, o.submitted_bar, o.avg_price)
                    for o in execs[n].orders
                    if str(o.status) == "FILLED"
                ]
                for n in states
            }
            exchange_fills = ex.fills()
            balances = ex.balances()
            positions = ex.positions()
            for n, st in states.items():
                assert st["state"] == "running", st
                # Reconciled after every fill (the tight loop) and once a bar (the engine);
                # never a mismatch.
                assert updates[n].reconciliations >= st["fills"] + N - 1
                assert updates[n].mismatches == 0
                assert venues[n].client.faults == {}
        finally:
            m.shutdown()

    spot_params = {**SPOT, "position_type": "spot"}
    perp_params = {**PERP, "position_type": "perp"}
    assert live_orders["spot_one"] == _backtest_orders(csv, spot_params)
    assert live_orders["perp_two"] == _backtest_orders(csv, perp_params)
    assert len(live_orders["spot_one"]) == 5 and len(live_orders["perp_two"]) == 4
    # Every order reached the exchange exactly once, and every fill reached the books.
    assert len(exchange_fills) == 9
    # Books equal the exchange: spot holds 0.5 BTC net, the perp is short 0.0.
    spot_books = books["spot_one"]
    assert spot_books.venue_positions("spot") == {f"spot:spot:{SYMBOL}": pytest.approx(0.5)}
    assert balances["spot"]["BTC"]["free"] + balances["spot"]["BTC"].get("locked", 0.0) == (
        pytest.approx(0.5)
    )
    assert spot_books.cash["spot"] == pytest.approx(
        balances["spot"]["USDT"]["free"] + balances["spot"]["USDT"].get("locked", 0.0)
    )
    assert positions.get("BTCUSDT", {}).get("amount", 0.0) == pytest.approx(0.0)
    assert not any(books["perp_two"].venue_positions("perp").values())
