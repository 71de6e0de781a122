"""An account change the books cannot explain (another client trading on the same keys)
is caught by the once-a-bar reconciliation, or by the tight loop's after the strategy's
next fill: either way the kill switch goes HALTED and the container fails with
EXEC-005, naming the venue and the difference."""

from __future__ import annotations

import json
from pathlib import Path

import ccxt
import pytest

from isoloop.live import LiveTradingManager
from support.exchange_live import (
    ENV,
    FAKE_KEY,
    FAKE_SECRET,
    bars_frame,
    ccxt_blueprint,
    exchange_live_config,
    exchange_strategy,
    lockstep,
    write_csv,
)
from support.live_helpers import state_of, wait_for
from support.loopback_exchange import LoopbackExchange

N = 8


@pytest.mark.parametrize(
    ("buy_bars", "difference"),
    [
        ([2], "spot:spot:BTCUSD: books 0.5 != venue 0.75"),  # the once-a-bar check
        ([2, 4], "spot:spot:BTCUSD: books 1.0 != venue 1.25"),  # after the bar-4 fill
    ],
)
def test_unexplained_account_change_halts_and_fails_with_exec_005(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, buy_bars: list[int], difference: str
) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    frame = bars_frame(N, seed=9)
    csv = write_csv(frame, tmp_path)
    bp = ccxt_blueprint(tmp_path)
    with LoopbackExchange({"BTCUSDT": frame}, api_key=FAKE_KEY, secret=FAKE_SECRET) as ex:
        strat = exchange_strategy(
            "watched", bp, ex.urls, params={"buy_bars": buy_bars, "units": 0.5}
        )
        m = LiveTradingManager(exchange_live_config(tmp_path / "state", csv, [strat], N))
        m.start(api=False, feed=False)
        try:
            lockstep(m, ex, range(4))
            assert state_of(m, "watched")["state"] == "running"
            # Someone else buys on the same account, outside the strategy.
            rogue = ccxt.binance(ex.ccxt_config("spot"))
            rogue.options["fetchCurrencies"] = False
            rogue.create_order("BTC/USDT", "market", "buy", 0.25)
            lockstep(m, ex, range(4, 5))
            wait_for(lambda: state_of(m, "watched")["state"] == "failed", 60, "the failure")
            st = state_of(m, "watched")
        finally:
            m.shutdown()
    assert "EXEC-005" in st["error"] and "'spot'" in st["error"], st["error"]
    assert difference in st["error"]
    log = (tmp_path / "state" / "logs" / "watched.jsonl").read_text(encoding="utf-8")
    event = "periodic_reconciliation_failed" if buy_bars == [2] else "reconciliation_failed"
    assert f'"event": "{event}"' in log
    trips = [json.loads(line) for line in log.splitlines() if '"event": "kill_switch"' in line]
    assert [(t["from"], t["to"], t["bar"], t["reason"]) for t in trips] == [
        ("ACTIVE", "HALTED", 4, "reconciliation")
    ]
    assert "books and venue" in trips[0]["note"] and difference in trips[0]["note"]
