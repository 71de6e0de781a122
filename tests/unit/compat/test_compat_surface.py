"""The compat strategy surface itself: growing read-only data, indicators, params, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtesting.test import GOOG

from isoloop.compat.backtesting import Backtest, Strategy
from isoloop.compat.backtesting.lib import barssince, cross, crossover, quantile
from isoloop.compat.backtesting.test import SMA
from isoloop.errors import ConfigError, StrategyParamError

DATA = GOOG.iloc[:120]
# What the strategies below saw, appended from inside their run (a test-only channel:
# the run's scope, and the strategy object with it, is gone when `run()` returns).
SEEN: list[dict[str, Any]] = []


class Recorder(Strategy):
    n = 5

    def init(self) -> None:
        SEEN.append(
            {
                "init_len": len(self.data.Close),
                "init_index_len": len(self.data.index),
                "init_df_len": len(self.data.df),
            }
        )
        self.full_close = self.data.Close
        self.sma = self.I(SMA, self.data.Close, self.n)
        self.both = self.I(lambda c: np.vstack([c, c * 2]), self.data.Close, name=["c", "c2"])

    def next(self) -> None:
        d = self.data
        n = len(d)
        row = {
            "n": n,
            "close_len": len(d.Close),
            "cols": [len(d.Open), len(d.High), len(d.Low), len(d.Volume), len(d.index)],
            "df_len": len(d.df),
            "last_close": float(d.Close[-1]),
            "last_time": d.index[-1],
            "sma_len": len(self.sma),
            "sma_last": float(self.sma[-1]),
            "both_shape": self.both.shape,
            "series_last": float(d.Close.s.iloc[-1]),
            # A view of the run's bars, not a copy made for this bar.
            "same_view": np.shares_memory(d.Close, self.full_close) and d["Close"] is d.Close,
        }
        for target in (d.Close, self.sma):
            try:
                target[-1] = 0.0
            except ValueError:
                row.setdefault("writes_refused", 0)
                row["writes_refused"] += 1
        SEEN.append(row)


def test_data_and_indicators_grow_bar_by_bar_and_refuse_writes() -> None:
    SEEN.clear()
    Backtest(DATA, Recorder).run()
    first, *bars = SEEN
    # In init(): full length, like backtesting.py.
    assert first == {"init_len": 120, "init_index_len": 120, "init_df_len": 120}
    sma = DATA["Close"].rolling(5).mean().to_numpy()
    # SMA(5) has its first value at bar 4, so next() starts at bar 5 (6 bars visible).
    assert [b["n"] for b in bars] == list(range(6, 121))
    for b in bars:
        n = b["n"]
        assert b["close_len"] == b["df_len"] == b["sma_len"] == n
        assert b["cols"] == [n] * 5
        assert b["both_shape"] == (2, n)
        assert b["last_close"] == b["series_last"] == DATA["Close"].iloc[n - 1]
        assert b["last_time"] == DATA.index[n - 1]
        assert b["sma_last"] == pytest.approx(sma[n - 1], rel=1e-12)
        assert b["same_view"]
        assert b["writes_refused"] == 2


class WithParams(Strategy):
    fast = 5
    slow = 15

    def init(self) -> None:
        self.a = self.I(SMA, self.data.Close, self.fast)
        self.b = self.I(SMA, self.data.Close, self.slow)

    def next(self) -> None:
        if crossover(self.a, self.b):
            self.buy()
        elif crossover(self.b, self.a):
            self.position.close()


def test_class_attributes_are_defaults_and_run_kwargs_override_them() -> None:
    bt = Backtest(GOOG, WithParams, finalize_trades=True)
    default = bt.run()
    other = bt.run(slow=40)
    assert str(default["_strategy"]) == "WithParams"
    assert str(other["_strategy"]) == "WithParams(slow=40)"
    assert other["_strategy"].fast == 5
    # The slower average starts trading later and trades less.
    assert other["_trades"]["EntryBar"].iloc[0] > default["_trades"]["EntryBar"].iloc[0]
    assert other["# Trades"] < default["# Trades"]


def test_unknown_parameter_names_the_close_match() -> None:
    with pytest.raises(StrategyParamError, match=r"no parameter 'slo'.*did you mean slow"):
        Backtest(GOOG, WithParams).run(slo=40)


def test_a_backtesting_py_strategy_gets_told_to_change_its_import() -> None:
    import backtesting

    class Old(backtesting.Strategy):
        def init(self) -> None: ...

        def next(self) -> None: ...

    with pytest.raises(ConfigError, match=r"import Strategy from isoloop\.compat\.backtesting"):
        Backtest(GOOG, Old)  # type: ignore[arg-type]


def test_indicator_of_the_wrong_length_is_an_input_error_naming_it() -> None:
    class Short(Strategy):
        def init(self) -> None:
            self.x = self.I(lambda: np.ones(3), name="tiny")

    with pytest.raises(StrategyParamError, match="tiny"):
        Backtest(DATA, Short).run()


def test_commission_forms() -> None:
    """A rate, backtesting.py's (fixed, relative) tuple, and a refused lambda."""
    rate = Backtest(GOOG, WithParams, commission=0.001, finalize_trades=True).run()
    pair = Backtest(GOOG, WithParams, commission=(0.0, 0.001), finalize_trades=True).run()
    assert pair["Commissions [$]"] == pytest.approx(rate["Commissions [$]"], rel=1e-12)
    with pytest.raises(ConfigError, match="module-level function"):
        Backtest(GOOG, WithParams, commission=lambda size, price: 1.0)


def test_lib_helpers_agree_with_backtesting_lib() -> None:
    import backtesting.lib as oracle

    rng = np.random.default_rng(7)
    for _ in range(200):
        a = np.round(rng.normal(size=rng.integers(0, 5)), 1)
        b = np.round(rng.normal(size=len(a)), 1)
        level = float(np.round(rng.normal(), 1))
        assert crossover(a, b) == oracle.crossover(a, b)
        assert crossover(a, level) == oracle.crossover(a, level)
        assert crossover(pd.Series(a), pd.Series(b)) == oracle.crossover(pd.Series(a), pd.Series(b))
        assert cross(a, b) == oracle.cross(a, b)
        assert barssince(a > 0) == oracle.barssince(a > 0)
        if len(a) > 1:
            assert quantile(a) == oracle.quantile(a)
            assert quantile(a, 0.3) == pytest.approx(oracle.quantile(a, 0.3))


class ReadsExtra(Strategy):
    def next(self) -> None:
        SEEN.append(
            {
                "n": len(self.data),
                "pe": self.data.PE.copy(),
                "by_key": float(self.data["PE"][-1]),
                "df_cols": list(self.data.df.columns),
            }
        )


def test_extra_data_columns_grow_like_ohlcv() -> None:
    frame = DATA.assign(PE=np.arange(len(DATA), dtype=float) / 10)
    SEEN.clear()
    Backtest(frame, ReadsExtra).run()
    assert SEEN, "next() never ran"
    for row in SEEN:
        n = row["n"]
        np.testing.assert_array_equal(row["pe"], frame["PE"].to_numpy()[:n])
        assert row["by_key"] == frame["PE"].iloc[n - 1]
        assert row["df_cols"] == ["Open", "High", "Low", "Close", "Volume", "PE"]


def test_plot_writes_the_html_report_of_the_run_asked_for(tmp_path: Any) -> None:
    bt = Backtest(DATA, WithParams)
    first = bt.run(slow=20)
    bt.run(slow=30)
    report = bt.plot(results=first, filename=str(tmp_path / "first.html"))
    assert report.path == tmp_path / "first.html"
    html = report.path.read_text(encoding="utf-8")
    assert "<html" in html.lower() and "WithParams" in html
    assert 'iframe srcdoc="' in report._repr_html_()


def test_data_without_volume_runs_like_backtesting_py() -> None:
    import warnings

    import backtesting
    from test_compat_parity import OracleSmaCross, SmaCross

    frame = GOOG.drop(columns="Volume")
    ours = Backtest(frame, SmaCross).run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = backtesting.Backtest(frame, OracleSmaCross).run()
    assert ours["Equity Final [$]"] == pytest.approx(theirs["Equity Final [$]"], rel=1e-9)
    assert ours["# Trades"] == theirs["# Trades"]
