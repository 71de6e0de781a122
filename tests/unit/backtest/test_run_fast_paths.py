"""What makes a run cheap must not change what it gives: cached data, lazy tables, NumPy stats."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from backtesting.test import GOOG

from isoloop.backtest.run import BacktestCoordinator, run_backtest
from isoloop.backtest.trade_arrays import STATS_TRADE_COLUMNS, trade_columns
from isoloop.config import load_run_config
from isoloop.data import load_market_data
from isoloop.data.cache import process_data_cache
from isoloop.logging import MemorySink
from isoloop.results.metrics import compute_stats
from isoloop.results.trades import trades_table
from isoloop.scope import SharedServices


def _config(csv: Path) -> dict[str, Any]:
    return {
        "strategy": {
            "class": "isoloop.examples.sma_cross:SmaCross",
            "params": {"fast": 5, "slow": 12},
        },
        "data": {"source": f"csv:{csv}", "symbol": "GOOG"},
        "venue": {"cash": 10_000, "commission": 0.002},
    }


def _fresh_digest(config: dict[str, Any]) -> str:
    """The digest of a run that loads its data itself (no cache)."""
    coordinator = BacktestCoordinator()
    try:
        return coordinator.run_backtest(config, report=False).digest
    finally:
        coordinator.close()


def test_run_backtest_in_a_loop_reuses_the_data_until_the_file_changes(tmp_path: Path) -> None:
    csv = tmp_path / "goog.csv"
    GOOG.iloc[:400].to_csv(csv, index_label="Date")
    cache = process_data_cache()
    hits = cache.hits
    first = run_backtest(_config(csv))
    second = run_backtest(_config(csv))
    assert cache.hits == hits + 1
    assert second.digest == first.digest == _fresh_digest(_config(csv))

    changed = GOOG.iloc[:400].copy()
    changed["Close"] = changed["Close"] * 1.01
    changed["High"] = changed[["High", "Close"]].max(axis=1)
    changed.to_csv(csv, index_label="Date")
    third = run_backtest(_config(csv))
    assert third.digest != first.digest
    assert third.digest == _fresh_digest(_config(csv))


def _goog_run() -> tuple[Any, Any, Any]:
    cfg, _ = load_run_config(
        {
            "strategy": {"class": "isoloop.examples.sma_cross:SmaCross"},
            "data": {"source": "sample:GOOG"},
            "venue": {"commission": 0.002},
        }
    )
    md, prints = load_market_data([cfg.data], None)
    coordinator = BacktestCoordinator(SharedServices(market_data=md, fingerprints=prints))
    return coordinator, cfg, md


def test_result_tables_are_built_on_first_use_and_equal_the_published_shapes() -> None:
    coordinator, cfg, _ = _goog_run()
    try:
        result = coordinator.run_backtest(cfg, run_id="t")
    finally:
        coordinator.close()
    assert "trades" not in result.__dict__  # not built by the run itself
    trades = result.trades
    assert trades is result.trades  # built once
    pd.testing.assert_frame_equal(trades, trades_table(result.trade_log))
    assert list(trades.columns).index("duration") == list(trades.columns).index("exit_time") + 1
    assert len(trades) == result.stats["trades"] > 0
    assert result.equity.name == "equity"
    assert isinstance(result.equity.index, pd.DatetimeIndex)
    assert result.equity.iloc[-1] == result.stats["equity_final"]
    np.testing.assert_array_equal(result.equity.index.to_numpy(), result.index)


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return list(a) == list(b) and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a
    )


def test_stats_from_the_ledger_columns_equal_the_stats_from_the_table() -> None:
    coordinator, cfg, md = _goog_run()
    scopes = coordinator._scope_coordinator(cfg, Path.cwd())[0]
    try:
        with scopes.scope(cfg.container, config=cfg, run_id="t", seed=0) as run:
            run.start()
            output = run.get("engine").run()
            columns = trade_columns(output)
            assert isinstance(columns, dict) and list(columns) == list(STATS_TRADE_COLUMNS)
            for name in STATS_TRADE_COLUMNS:
                np.testing.assert_array_equal(
                    columns[name], output.trades[name].to_numpy(dtype="float64")
                )
            close = md["GOOG"].close
            from_table = compute_stats(output.equity, output.index, output.trades, close)
            from_columns = compute_stats(output.equity, output.index, columns, close)
            assert _same(from_table, from_columns) and from_table["trades"] > 0
            # Another engine's output, with a table and no closed-trade records: read as it is.
            other = SimpleNamespace(trades=output.trades.iloc[:-1])
            assert trade_columns(other) is other.trades
    finally:
        coordinator.close()


def test_a_recorded_run_still_logs_its_config_first() -> None:
    coordinator, cfg, _ = _goog_run()
    sink = MemorySink()
    try:
        coordinator.run_backtest(cfg, run_id="t", log_sink=sink)
    finally:
        coordinator.close()
    events = [r for r in sink.records() if r["event"] == "run_config"]
    assert len(events) == 1
    assert events[0]["config"] == cfg.model_dump(mode="json", by_alias=True)
