"""compute_stats reproduces backtesting.py's own stats for the same trades and equity."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest, Strategy
from backtesting._util import _indicator_warmup_nbars
from backtesting.lib import crossover
from backtesting.test import BTCUSD, EURUSD, GOOG

from isoloop import run_backtest
from isoloop.results import backtesting_stats
from isoloop.results.metrics import STATS_KEYS, compute_stats
from support.oracle import OracleSmaCross as SmaCross
from support.oracle import bt_trades_frame, oracle_run

#: backtesting.py stat name -> isoloop stats key.
ORACLE_NAMES = {
    "Equity Final [$]": "equity_final",
    "Equity Peak [$]": "equity_peak",
    "Return [%]": "return_pct",
    "Buy & Hold Return [%]": "buy_hold_return_pct",
    "Return (Ann.) [%]": "return_ann_pct",
    "Volatility (Ann.) [%]": "volatility_ann_pct",
    "Sharpe Ratio": "sharpe_ratio",
    "Sortino Ratio": "sortino_ratio",
    "Calmar Ratio": "calmar_ratio",
    "Max. Drawdown [%]": "max_drawdown_pct",
    "Avg. Drawdown [%]": "avg_drawdown_pct",
    "# Trades": "trades",
    "Win Rate [%]": "win_rate_pct",
    "Best Trade [%]": "best_trade_pct",
    "Worst Trade [%]": "worst_trade_pct",
    "Avg. Trade [%]": "avg_trade_pct",
    "Profit Factor": "profit_factor",
    "Expectancy [%]": "expectancy_pct",
    "SQN": "sqn",
    "Exposure Time [%]": "exposure_pct",
    "Commissions [$]": "commissions",
    "CAGR [%]": "cagr_pct",
    "Alpha [%]": "alpha_pct",
    "Beta": "beta",
    "Kelly Criterion": "kelly_criterion",
}

#: backtesting.py's duration stats (Timedeltas) -> isoloop stats keys (days).
ORACLE_DURATIONS = {
    "Duration": "duration_days",
    "Max. Drawdown Duration": "max_drawdown_duration_days",
    "Avg. Drawdown Duration": "avg_drawdown_duration_days",
    "Max. Trade Duration": "max_trade_duration_days",
    "Avg. Trade Duration": "avg_trade_duration_days",
}


class LongOnly(SmaCross):
    """Holds no position between exit and entry, so exposure is well below 100%."""

    def next(self) -> None:
        if crossover(self.sma1, self.sma2):
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()


def to_inputs(stats: pd.Series, symbol: str) -> dict[str, Any]:
    trades = bt_trades_frame(stats["_trades"], symbol)
    curve = stats["_equity_curve"]
    return {
        "equity": curve["Equity"].to_numpy(dtype=float),
        "index": pd.DatetimeIndex(curve.index).as_unit("ns").to_numpy(),
        "trades": trades,
        "warmup_bars": _indicator_warmup_nbars(stats["_strategy"]),
    }


def run_oracle(
    data: pd.DataFrame, strategy: type[Strategy], commission: float, **params: int
) -> pd.Series:
    bt = Backtest(data, strategy, cash=1_000_000, commission=commission, finalize_trades=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bt.run(**params)


def assert_matches_oracle(ours: dict[str, float], oracle: pd.Series) -> None:
    assert list(ours) == list(STATS_KEYS)
    for name, key in ORACLE_NAMES.items():
        expected = float(oracle[name]) if name in oracle else 0.0  # commissions hidden when 0
        got = ours[key]
        assert isinstance(got, int if key == "trades" else float), (key, type(got))
        if math.isnan(expected):
            assert math.isnan(got), (key, got)
        else:
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), (name, got, expected)
    for name, key in ORACLE_DURATIONS.items():
        span = oracle[name]
        if isinstance(span, pd.Timedelta):
            # Exactly the oracle's span in days: no tolerance.
            assert ours[key] == span.value / 86_400e9, (name, ours[key], span)
        else:  # no trade or no drawdown: backtesting.py has no Timedelta to show
            assert math.isnan(ours[key]), (name, ours[key], span)


CASES = [
    pytest.param(GOOG, "GOOG", SmaCross, 0.0, {}, id="GOOG-sma-nocomm"),
    pytest.param(GOOG, "GOOG", SmaCross, 0.002, {"fast": 5, "slow": 20}, id="GOOG-sma-comm"),
    pytest.param(GOOG, "GOOG", LongOnly, 0.001, {}, id="GOOG-longonly-comm"),
    pytest.param(EURUSD, "EURUSD", SmaCross, 0.0, {}, id="EURUSD-sma-nocomm"),
    pytest.param(
        EURUSD, "EURUSD", SmaCross, 0.0002, {"fast": 20, "slow": 60}, id="EURUSD-sma-comm"
    ),
    pytest.param(EURUSD, "EURUSD", LongOnly, 0.0, {}, id="EURUSD-longonly"),
    pytest.param(BTCUSD, "BTCUSD", SmaCross, 0.001, {"fast": 3, "slow": 8}, id="BTCUSD-monthly"),
]


@pytest.mark.parametrize(("data", "symbol", "strategy", "commission", "params"), CASES)
def test_every_stat_matches_backtesting_py(
    data: pd.DataFrame,
    symbol: str,
    strategy: type[Strategy],
    commission: float,
    params: dict[str, int],
) -> None:
    oracle = run_oracle(data, strategy, commission, **params)
    assert oracle["# Trades"] > 3
    ours = compute_stats(close=data["Close"].to_numpy(), **to_inputs(oracle, symbol))
    assert_matches_oracle(ours, oracle)


def test_golden_goog_sma_cross() -> None:
    bt = Backtest(GOOG, SmaCross, cash=10_000, commission=0.0, finalize_trades=True)
    oracle = bt.run()
    ours = compute_stats(close=GOOG["Close"].to_numpy(), **to_inputs(oracle, "GOOG"))
    assert ours["equity_final"] == pytest.approx(51_422.98999999996, rel=1e-12)
    assert ours["trades"] == 66
    assert ours["sqn"] == pytest.approx(1.0766187, abs=1e-7)
    assert ours["sharpe_ratio"] == pytest.approx(0.5806232, abs=1e-7)
    assert ours["commissions"] == 0.0
    assert_matches_oracle(ours, oracle)


def test_no_trades_matches_oracle() -> None:
    class Idle(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            pass

    oracle = run_oracle(GOOG, Idle, 0.0)
    ours = compute_stats(close=GOOG["Close"].to_numpy(), **to_inputs(oracle, "GOOG"))
    assert ours["trades"] == 0
    assert math.isnan(ours["win_rate_pct"])
    assert ours["exposure_pct"] == 0.0
    assert_matches_oracle(ours, oracle)


def test_values_are_plain_python_numbers() -> None:
    oracle = run_oracle(GOOG, SmaCross, 0.0)
    ours = compute_stats(close=GOOG["Close"].to_numpy(), **to_inputs(oracle, "GOOG"))
    assert all(type(v) is float for k, v in ours.items() if k != "trades")
    assert type(ours["trades"]) is int
    assert not any(isinstance(v, np.generic) for v in ours.values())


def test_weekly_and_weekend_data_match_oracle() -> None:
    weekly = (
        GOOG.resample("W")
        .agg({"Open": "first", "High": "max", "Low": "min", "Close": "last", "Volume": "sum"})
        .dropna()
    )
    oracle = run_oracle(weekly, SmaCross, 0.001, fast=4, slow=12)
    assert oracle["# Trades"] > 3
    ours = compute_stats(close=weekly["Close"].to_numpy(), **to_inputs(oracle, "GOOG"))
    assert_matches_oracle(ours, oracle)
    # Calendar-day bars (weekends included) annualize with 365 days, not 252.
    seven_day = EURUSD.iloc[:2000].copy()
    seven_day.index = pd.date_range("2020-01-01", periods=len(seven_day), freq="6h")
    oracle = run_oracle(seven_day, SmaCross, 0.0)
    ours = compute_stats(close=seven_day["Close"].to_numpy(), **to_inputs(oracle, "EURUSD"))
    assert_matches_oracle(ours, oracle)


# --- backtesting.py's labels: isoloop's own run, shown as backtesting.py shows it ----------

GOOG_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "goog_sma.yaml"


def assert_same_value(label: str, got: Any, expected: Any) -> None:
    """Timestamps/Timedeltas exactly and of the same type, ints as ints, floats to 1e-9."""
    if isinstance(expected, pd.Timestamp | pd.Timedelta):
        assert type(got) is type(expected), (label, got, expected)
        assert got == expected, (label, got, expected)
    elif isinstance(expected, int | np.integer):
        assert isinstance(got, int | np.integer), (label, got, expected)
        assert got == expected, (label, got, expected)
    elif pd.isna(expected):
        assert pd.isna(got), (label, got)
    else:
        assert got == pytest.approx(float(expected), rel=1e-9, abs=1e-12), (label, got, expected)


@pytest.mark.parametrize(
    ("params", "commission"),
    [
        pytest.param({"fast": 10, "slow": 30}, 0.0, id="GOOG-10-30"),
        pytest.param({"fast": 5, "slow": 20}, 0.002, id="GOOG-5-20-shorts-commission"),
    ],
)
def test_labelled_view_of_an_isoloop_run_equals_backtesting_py(
    params: dict[str, int], commission: float
) -> None:
    oracle = oracle_run(GOOG, params["fast"], params["slow"], cash=10_000, commission=commission)
    result = run_backtest(
        GOOG_CONFIG,
        report=False,
        **{f"strategy.params.{k}": v for k, v in params.items()},
        **{"venue.commission": commission},
    )
    view = backtesting_stats(result.stats, result.trades, equity=result.equity)

    shown = [label for label in oracle.index if not label.startswith("_")]
    ours = [label for label in view.index if not label.startswith("_")]
    assert ours == shown  # same labels, same order: nothing missing, nothing extra
    for label in shown:
        assert_same_value(label, view[label], oracle[label])

    trades, expected = view["_trades"], oracle["_trades"]
    assert list(trades.columns) == [
        c for c in expected.columns if not c.startswith(("Entry_", "Exit_"))
    ]
    assert len(trades) == len(expected) > 10
    for column in trades.columns:
        for got, want in zip(trades[column], expected[column], strict=True):
            assert_same_value(column, got, want)

    curve, expected_curve = view["_equity_curve"], oracle["_equity_curve"]
    assert list(curve.columns) == list(expected_curve.columns)
    assert (curve.index == expected_curve.index).all()
    np.testing.assert_allclose(curve["Equity"], expected_curve["Equity"], rtol=1e-9)
    np.testing.assert_allclose(curve["DrawdownPct"], expected_curve["DrawdownPct"], rtol=1e-9)
    spans = curve["DrawdownDuration"].astype("timedelta64[ns]")
    assert spans.equals(expected_curve["DrawdownDuration"].astype("timedelta64[ns]"))
