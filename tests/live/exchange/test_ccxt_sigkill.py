"""A real `isoloop live` process on the ccxt venue is SIGKILLed while its order request is
at the exchange (applied, answer held back), then started again: the restarted container
asks the exchange for the journalled client id and adopts the order instead of sending
it twice; no fill is lost and the books equal the exchange. Nothing it wrote, printed or
logged holds the API key or secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from isoloop.live import read_account_rows
from support.exchange_live import (
    ENV,
    FAKE_KEY,
    FAKE_SECRET,
    SYMBOL,
    bars_frame,
    ccxt_blueprint,
    exchange_live_config,
    exchange_strategy,
    write_csv,
)
from support.live_helpers import wait_for
from support.live_process import TESTS
from support.loopback_exchange import LoopbackExchange

N = 12
NAME = "killed"


def _start(config: Path, label: str, seconds: float) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        **ENV,
    )
    out = (config.parent / f"{label}.stdout").open("wb")
    err = (config.parent / f"{label}.stderr").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "isoloop.cli", "live", str(config), "--for", str(seconds)],
        stdout=out,
        stderr=err,
        env=env,
    )


def _events(state: Path, event: str) -> list[str]:
    log = state / "logs" / f"{NAME}.jsonl"
    return [line for line in log.read_text(encoding="utf-8").splitlines() if event in line]


def test_sigkill_mid_order_then_restart_adopts_the_order_no_duplicate_no_lost_fill(
    tmp_path: Path,
) -> None:
    frame = bars_frame(N, seed=3)
    csv = write_csv(frame, tmp_path)
    bp = ccxt_blueprint(tmp_path)
    state = tmp_path / "state"
    params = {"buy_bars": [3, 8], "sell_bars": [6], "units": 0.5}
    with LoopbackExchange({"BTCUSDT": frame}, api_key=FAKE_KEY, secret=FAKE_SECRET) as ex:
        ex.set_bar(5)  # every market order fills at bar 5's close
        cfg = exchange_live_config(
            state, csv, [exchange_strategy(NAME, bp, ex.urls, params=params)], bars=N
        )
        cfg["feed"]["speed"] = 3600 / 0.25  # a bar every 0.25 s
        config = tmp_path / "live.yaml"
        config.write_text(yaml.safe_dump(cfg), encoding="utf-8")

        # The first order is applied at once, its answer held: the process dies waiting.
        ex.inject("timeout", endpoint="POST /api/v3/order", seconds=60, apply_first=True)
        first = _start(config, "first", 120)
        try:
            wait_for(lambda: len(ex.orders()) == 1 or first.poll() is not None, 90, "order 1")
            assert first.poll() is None, (tmp_path / "first.stderr").read_text()
            first.kill()  # SIGKILL
        finally:
            first.kill()
            first.wait(30)
        assert first.returncode == -9
        ex.clear_faults()
        in_doubt = ex.orders()

        second = _start(config, "second", 120)  # a finite replay ends once it is through
        try:
            assert second.wait(120) == 0, (tmp_path / "second.stderr").read_text()
        finally:
            second.kill()
        orders, fills, balances = ex.orders(), ex.fills(), ex.balances()

    # Exactly the strategy's three orders reached the exchange, each once.
    assert len(in_doubt) == 1 and in_doubt[0]["status"] == "FILLED"
    assert [o["side"] for o in orders] == ["BUY", "SELL", "BUY"]
    assert len({o["client_order_id"] for o in orders}) == 3
    assert orders[0]["client_order_id"] == in_doubt[0]["client_order_id"]
    assert len(fills) == 3
    # The restart asked for the journalled client id and adopted it.
    landed = _events(state, "exchange_order_in_doubt")
    assert len(landed) == 1 and '"landed": true' in landed[0]
    assert len(_events(state, "exchange_order_adopted")) == 1
    # No fill lost: the store holds all three, the books equal the exchange.
    rows = read_account_rows(state / "live.sqlite", NAME)
    assert [f["qty"] for f in rows["fills"]] == [0.5, -0.5, 0.5]
    spot = balances["spot"]
    assert rows["positions"] == {f"spot:spot:{SYMBOL}": pytest.approx(spot["BTC"]["free"])}
    assert rows["cash"] == pytest.approx(spot["USDT"]["free"] + spot["USDT"]["locked"])
    # No output holds a credential: logs, stdout/stderr, state and export files, the store.
    leaks = [
        str(p.relative_to(tmp_path))
        for p in sorted(tmp_path.rglob("*"))
        if p.is_file() and any(s.encode() in p.read_bytes() for s in (FAKE_KEY, FAKE_SECRET))
    ]
    assert leaks == []
    assert len(list(tmp_path.rglob("*.jsonl"))) >= 2  # the grep saw the logs
