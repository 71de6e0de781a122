"""Startup reconciliation: a container whose venue account disagrees with its state refuses to start."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from isoloop.live import LiveTradingManager
from support.live_helpers import events, live_config, rows, state_of, strategy

pytestmark = pytest.mark.live


def test_mismatch_refuses_that_container_and_the_others_start(tmp_path: Path) -> None:
    cfg = live_config(tmp_path, [strategy("a"), strategy("b"), strategy("c")], bars=200)
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.wait_settled(60)
    held = rows(tmp_path, "a")["positions"]
    assert held, "SmaCross holds a position after its first cross"
    key = next(iter(held))
    # Someone traded account `a` at the venue behind the container's back; `b` lost an order.
    db = sqlite3.connect(tmp_path / "paper.sqlite")
    with db:
        db.execute("UPDATE venue_positions SET qty = qty + 5 WHERE account='a' AND key=?", (key,))
        db.execute(
            "UPDATE container_checkpoints SET open_orders='[\"O9999999\"]' WHERE account='b'"
        )
    db.close()

    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.wait_settled(60)
        st = {n: state_of(m, n) for n in "abc"}
    for n in "ab":
        assert st[n]["state"] == "failed"
        assert st[n]["restarts"] == 0  # a restart cannot fix a disagreement
        assert "StartupReconciliationError" in st[n]["error"]
        assert "refusing to start" in st[n]["error"]
    assert f"position {key}: container {held[key]!r} != venue {held[key] + 5!r}" in st["a"]["error"]
    assert "open orders" in st["b"]["error"] and "O9999999" in st["b"]["error"]
    assert st["c"]["state"] == "running"
    assert [e["resumed"] for e in events(tmp_path, "c", "startup_reconciled")] == [False, True]
