"""A resting limit order survives a restart of its container: while the manager is down
the exchange fills it; the restarted container passes its startup check (the fill is
the order's, not an unexplained change), reports the fill at its next bar, and its
books equal the exchange."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from isoloop.errors import ConfigError
from isoloop.live import LiveTradingManager, read_account_rows
from isoloop.live.replay import replay_session
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

N = 10


def _manager(cfg: dict[str, Any]) -> LiveTradingManager:
    m = LiveTradingManager(cfg)
    m.start(api=False, feed=False)
    return m


def test_a_limit_order_filled_while_the_container_was_down_reaches_the_books(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    frame = bars_frame(N, seed=4)
    csv = write_csv(frame, tmp_path)
    bp = ccxt_blueprint(tmp_path)
    price = round(float(frame["Low"].iloc[2:6].min()) + 0.01, 2)  # crossed by bar 6 at most
    # A market buy fills in the first session too: the restart numbers its fills on.
    params = {"bar": 1, "price": price, "market_bar": 1}
    with LoopbackExchange({"BTCUSDT": frame}, api_key=FAKE_KEY, secret=FAKE_SECRET) as ex:
        strat = exchange_strategy(
            "rest", bp, ex.urls, params=params, cls="support.exchange_live:RestingBuy"
        )
        cfg = exchange_live_config(tmp_path / "state", csv, [strat], N)
        first = _manager(cfg)
        try:
            lockstep(first, ex, range(2))
            assert [o["status"] for o in ex.orders()] == ["FILLED", "NEW"]
        finally:
            first.shutdown()
        ex.set_bar(6)  # the order fills while nobody watches
        assert [o["status"] for o in ex.orders()] == ["FILLED", "FILLED"]

        second = _manager(cfg)
        try:
            first_bar = second.step_feed()  # bar 0, 1: already in the checkpoint
            while first_bar is not None and first_bar < 1:
                first_bar = second.step_feed()
            lockstep(second, ex, range(2, 4))
            st = state_of(second, "rest")
            books = second.container("rest")._scope.get("positions")
            held = books.venue_positions("spot")
            cash = books.cash["spot"]
        finally:
            second.shutdown()
        spot = ex.balances()["spot"]
        # Replay re-runs paper sessions only: on the exchange it would place the orders again.
        # Refused before a container is built: not even a read reaches the exchange.
        asked = sum(ex.requests.values())
        with pytest.raises(ConfigError, match="real exchange; replay re-runs paper sessions"):
            replay_session(tmp_path / "state")
        assert sum(ex.requests.values()) == asked
        assert len(ex.orders()) == 2

    assert st["state"] == "running", st
    assert held == {f"spot:spot:{SYMBOL}": pytest.approx(1.5)}
    assert spot["BTC"]["free"] == pytest.approx(1.5)
    assert cash == pytest.approx(spot["USDT"]["free"] + spot["USDT"]["locked"])
    rows = read_account_rows(tmp_path / "state" / "live.sqlite", "rest")
    close1 = float(frame["Close"].iloc[1])
    assert [(f["seq"], f["qty"], f["price"]) for f in rows["fills"]] == [
        (0, 0.5, close1),
        (1, 1.0, price),
    ]
    assert len(ex.orders()) == 2
