"""A paper container exports its equity, trades, orders and fills in the backtest run
folder's formats, and they say what the container's own books say."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from isoloop.live import FeedBar, LiveTradingManager
from isoloop.live.export import EXPORT_FILES, export_session
from isoloop.results import trades_table
from support.live_helpers import live_config, rows, strategy, wait_for

pytestmark = pytest.mark.live

BARS = 90


def _books(m: LiveTradingManager, name: str) -> dict[str, object]:
    """What the running container's books say (read through its run scope)."""
    scope = m.container(name)._scope  # the container's own modules, still running
    assert scope is not None
    positions = scope.get("positions")
    index = scope.get("clock").market.index
    return {
        "equity": positions.equity_curve()[:BARS],
        "cash": positions.cash_curve()[:BARS],
        "index": pd.DatetimeIndex(index[:BARS]),
        "trades": trades_table(scope.get("position_updates").trades.frame(index)),
    }


def _publish(m: LiveTradingManager, bars: range) -> None:
    assert m.feed is not None
    for i in bars:
        m.feed.publish(FeedBar(i, m.feed.times[i]))
    wait_for(lambda: m.container("s").last_bar >= bars[-1], what=f"bar {bars[-1]}")


def test_exports_equal_the_books_and_are_refreshed_while_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    cfg = live_config(state, [strategy("s", params={"fast": 3, "slow": 8})], bars=BARS)
    folder = state / "exports" / "s"
    period = "isoloop.live.slots.engine.EXPORT_EVERY"
    monkeypatch.setattr(period, 1e9)  # no refresh while the first bars go through
    with LiveTradingManager(cfg) as m:
        m.start(feed=False)
        _publish(m, range(BARS - 1))
        assert not (folder / "export.json").exists()
        # With the period at zero, the next bar refreshes the files; the container runs on.
        monkeypatch.setattr(period, 0.0)
        _publish(m, range(BARS - 1, BARS))
        assert json.loads((folder / "export.json").read_text())["bars"] == BARS
        assert m.container("s").state.value == "running"
        books = _books(m, "s")
        # The stop writes them once more (checked by removing one first).
        monkeypatch.setattr(period, 1e9)
        (folder / "export.json").unlink()
    assert sorted(p.name for p in folder.iterdir()) == sorted(EXPORT_FILES)

    equity = pd.read_parquet(folder / "equity.parquet")
    assert list(equity.columns) == ["equity", "cash", "value:EURUSD"]
    assert equity.index.name == "time"
    pd.testing.assert_index_equal(equity.index, books["index"], check_names=False)
    np.testing.assert_allclose(equity["equity"], books["equity"], rtol=1e-12)
    np.testing.assert_allclose(equity["cash"], books["cash"], rtol=1e-12)
    np.testing.assert_allclose(equity["cash"] + equity["value:EURUSD"], equity["equity"])
    assert pd.read_csv(folder / "equity.csv", index_col=0).shape == equity.shape

    trades = pd.read_parquet(folder / "trades.parquet")
    expected = books["trades"]
    assert isinstance(expected, pd.DataFrame)
    assert len(expected) >= 5  # the session closed trades, so the comparison says something
    pd.testing.assert_frame_equal(trades, expected, check_dtype=False)
    assert list(pd.read_csv(folder / "trades.csv").columns) == list(expected.columns)

    stored = rows(state, "s")
    lines = (folder / "orders.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == stored["orders"]
    fills = pd.read_csv(folder / "fills.csv")
    assert fills["price"].tolist() == [f["price"] for f in stored["fills"]]
    assert fills["order_id"].tolist() == [f["order_id"] for f in stored["fills"]]
    meta = json.loads((folder / "export.json").read_text())
    assert meta == {
        "account": "s",
        "bars": BARS,
        "last_bar": BARS - 1,
        "trades": len(expected),
        "orders": len(stored["orders"]),
        "fills": len(stored["fills"]),
    }

    # Rebuilt from the state store alone (what a killed process leaves): the same tables.
    shutil.rmtree(state / "exports")
    (summary,) = export_session(state)
    assert (summary.account, summary.bars, summary.trades) == ("s", BARS, len(expected))
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "equity.parquet"), equity)
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "trades.parquet"), trades)
