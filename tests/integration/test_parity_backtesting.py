"""isoloop's backtest container against backtesting.py (the installed package is the oracle).

Each case runs backtesting.py's own SmaCross and isoloop's
`isoloop.examples.sma_cross:SmaCross` through `containers/backtest.yaml` on the
same bars and settings, and compares what a user reads off a backtest:
final equity, the equity curve, every trade's bars, prices and PnL, and the
headline statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from backtesting.test import EURUSD, GOOG

from isoloop.backtest import RunOutput
from isoloop.logging import MemorySink
from isoloop.results.metrics import compute_stats
from isoloop.scope import ScopeCoordinator, SharedServices, load_blueprint
from support.harness import make_config, market
from support.oracle import oracle_run

DATA = {"GOOG": (GOOG, 10_000.0), "EURUSD": (EURUSD, 100_000.0)}


def run_container(symbol: str, fast: int, slow: int, **venue: Any) -> RunOutput:
    df, cash = DATA[symbol]
    overrides = {f"venue__{k}": v for k, v in venue.items()}
    overrides.setdefault("venue__cash", cash)
    cfg = make_config(
        data__symbol=symbol, strategy__params={"fast": fast, "slow": slow}, **overrides
    )
    coord = ScopeCoordinator(SharedServices(market_data=market((symbol, df))))
    try:
        with coord.scope(
            load_blueprint("backtest"),
            config=cfg,
            run_id=f"{symbol}-{fast}-{slow}",
            log_sink=MemorySink(),
        ) as run:
            run.start()
            out: RunOutput = run.get("engine").run()
    finally:
        coord.close()
    return out


def test_golden_goog_sma_cross_10_30() -> None:
    """The value backtesting.py's own test suite asserts: 51,422.99 and 66 trades."""
    out = run_container("GOOG", 10, 30)
    assert out.equity[-1] == pytest.approx(51_422.99, abs=0.005)
    assert len(out.trades) == 66
    oracle = oracle_run(GOOG, 10, 30, cash=10_000)
    assert out.equity[-1] == pytest.approx(oracle["Equity Final [$]"], rel=1e-9)


CASES = [
    (sym, fast, slow, comm)
    for sym in ("GOOG", "EURUSD")
    for fast, slow in ((10, 30), (5, 20), (20, 50), (3, 7))
    for comm in (0.0, 0.002)
]


@pytest.mark.parametrize(("symbol", "fast", "slow", "commission"), CASES)
def test_parity_with_backtesting_py(symbol: str, fast: int, slow: int, commission: float) -> None:
    df, cash = DATA[symbol]
    oracle = oracle_run(df, fast, slow, cash=cash, commission=commission)
    out = run_container(symbol, fast, slow, commission=commission)
    _assert_same_run(out, oracle, df, warmup=slow - 1)


@pytest.mark.parametrize(
    ("venue", "bt_kwargs"),
    [
        ({"fill": {"on": "close"}}, {"trade_on_close": True}),
        ({"spread": 0.001}, {"spread": 0.001}),
        ({"spread": 0.0005, "commission": 0.001}, {"spread": 0.0005, "commission": 0.001}),
    ],
    ids=["fill-on-close", "spread", "spread+commission"],
)
def test_parity_fill_settings(venue: dict[str, Any], bt_kwargs: dict[str, Any]) -> None:
    oracle = oracle_run(GOOG, 10, 30, cash=10_000, **bt_kwargs)
    out = run_container("GOOG", 10, 30, **venue)
    _assert_same_run(out, oracle, GOOG, warmup=29)


def _assert_same_run(out: RunOutput, oracle: Any, df: Any, warmup: int) -> None:
    ours = out.trades
    theirs = oracle._trades
    assert out.equity[-1] == pytest.approx(oracle["Equity Final [$]"], rel=1e-9)
    assert len(ours) == len(theirs) == oracle["# Trades"]
    np.testing.assert_array_equal(ours["entry_bar"].to_numpy(), theirs["EntryBar"].to_numpy())
    np.testing.assert_array_equal(ours["exit_bar"].to_numpy(), theirs["ExitBar"].to_numpy())
    np.testing.assert_allclose(ours["entry_price"], theirs["EntryPrice"], rtol=1e-12)
    np.testing.assert_allclose(ours["exit_price"], theirs["ExitPrice"], rtol=1e-12)
    np.testing.assert_array_equal(ours["size"].to_numpy(), theirs["Size"].to_numpy())
    np.testing.assert_allclose(ours["pnl"], theirs["PnL"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours["return_pct"], theirs["ReturnPct"], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(
        ours["entry_time"].to_numpy(), theirs["EntryTime"].to_numpy().astype("datetime64[ns]")
    )
    np.testing.assert_allclose(out.equity, oracle._equity_curve["Equity"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours["commission"], theirs["Commission"], rtol=1e-9, atol=1e-9)
    assert out.commissions == pytest.approx(float(theirs["Commission"].sum()), rel=1e-9, abs=1e-9)

    assert out.warmup_bars == warmup
    stats = compute_stats(
        out.equity, out.index, out.trades, df["Close"].to_numpy(), warmup_bars=out.warmup_bars
    )
    for ours_key, theirs_key in (
        ("sharpe_ratio", "Sharpe Ratio"),
        ("sqn", "SQN"),
        ("max_drawdown_pct", "Max. Drawdown [%]"),
        ("win_rate_pct", "Win Rate [%]"),
        ("exposure_pct", "Exposure Time [%]"),
        ("return_pct", "Return [%]"),
    ):
        assert stats[ours_key] == pytest.approx(
            oracle[theirs_key], rel=1e-7, abs=1e-9, nan_ok=True
        ), ours_key


@pytest.mark.parametrize("commission", [0.0, 0.01])
def test_parity_when_the_account_runs_out_of_money(commission: float) -> None:
    """A short squeezed by a 3x jump: both engines close at that bar's close and stop at 0."""
    import pandas as pd

    close = np.concatenate(
        [np.linspace(100, 120, 20), np.linspace(119, 95, 25), [300.0], np.linspace(300, 320, 14)]
    )
    open_ = np.concatenate([[100.0], close[:-1]])
    df = pd.DataFrame(
        {
            "Open": open_,
            "High": np.maximum(open_, close) + 1,
            "Low": np.minimum(open_, close) - 1,
            "Close": close,
            "Volume": 1e6,
        },
        index=pd.date_range("2020-01-01", periods=len(close)),
    )
    oracle = oracle_run(df, 3, 6, cash=10_000, commission=commission)
    DATA["SQUEEZE"] = (df, 10_000.0)
    try:
        out = run_container("SQUEEZE", 3, 6, commission=commission)
    finally:
        del DATA["SQUEEZE"]
    assert oracle["Equity Final [$]"] == 0.0
    _assert_same_run(out, oracle, df, warmup=5)
    assert out.orders[-1]["status"] == "FILLED"
