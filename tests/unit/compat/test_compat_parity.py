"""A strategy written for backtesting.py, ported by changing its imports, gives backtesting.py's run.

The two strategy classes below are the same code: `SmaCross` imports from
`isoloop.compat.backtesting`, `OracleSmaCross` from `backtesting` (run at test
time as the oracle on the same bars and settings).
"""

from __future__ import annotations

import warnings
from typing import Any

import backtesting
import backtesting.lib
import backtesting.test
import numpy as np
import pandas as pd
import pytest
from backtesting.test import EURUSD, GOOG

from isoloop.compat.backtesting import Backtest, Strategy
from isoloop.compat.backtesting.lib import crossover
from isoloop.compat.backtesting.test import SMA


class SmaCross(Strategy):
    n1 = 10
    n2 = 20

    def init(self) -> None:
        close = self.data.Close
        self.sma1 = self.I(SMA, close, self.n1)
        self.sma2 = self.I(SMA, close, self.n2)

    def next(self) -> None:
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell()


class OracleSmaCross(backtesting.Strategy):
    n1 = 10
    n2 = 20

    def init(self) -> None:
        close = self.data.Close
        self.sma1 = self.I(backtesting.test.SMA, close, self.n1)
        self.sma2 = self.I(backtesting.test.SMA, close, self.n2)

    def next(self) -> None:
        if backtesting.lib.crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif backtesting.lib.crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell()


def oracle(data: pd.DataFrame, strategy: type, params: dict[str, Any], **kw: Any) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return backtesting.Backtest(data, strategy, **kw).run(**params)


def assert_same_run(ours: pd.Series, theirs: pd.Series) -> None:
    """The same labels in the same order, every value equal (1e-9), and so are the trades
    and the equity curve."""
    labels = [k for k in theirs.index if not k.startswith("_")]
    assert [k for k in ours.index if not k.startswith("_")] == labels
    shared = labels
    for label in shared:
        a, b = ours[label], theirs[label]
        if isinstance(b, pd.Timestamp | pd.Timedelta):
            assert a == b and str(a) == str(b), label  # the same instant, shown the same
        else:
            assert float(a) == pytest.approx(float(b), rel=1e-9, abs=1e-12, nan_ok=True), label
    t_ours, t_theirs = ours["_trades"], theirs["_trades"]
    assert len(t_ours) == len(t_theirs)
    for col in ("Size", "EntryBar", "ExitBar"):
        np.testing.assert_array_equal(t_ours[col].to_numpy(), t_theirs[col].to_numpy(), col)
    for col in ("EntryPrice", "ExitPrice", "PnL", "ReturnPct", "Commission"):
        np.testing.assert_allclose(t_ours[col], t_theirs[col], rtol=1e-9, atol=1e-9, err_msg=col)
    for col in ("EntryTime", "ExitTime"):
        assert list(map(str, t_ours[col])) == list(map(str, t_theirs[col])), col
        np.testing.assert_array_equal(
            pd.DatetimeIndex(t_ours[col]).as_unit("ns"),
            pd.DatetimeIndex(t_theirs[col]).as_unit("ns"),
        )
    e_ours, e_theirs = ours["_equity_curve"], theirs["_equity_curve"]
    assert list(map(str, e_ours.index)) == list(map(str, e_theirs.index))
    np.testing.assert_allclose(e_ours["Equity"], e_theirs["Equity"], rtol=1e-9)
    np.testing.assert_allclose(
        e_ours["DrawdownPct"], e_theirs["DrawdownPct"], rtol=1e-9, atol=1e-12
    )
    np.testing.assert_array_equal(
        e_ours["DrawdownDuration"].to_numpy(), e_theirs["DrawdownDuration"].to_numpy()
    )


@pytest.mark.parametrize(
    ("name", "params", "settings"),
    [
        ("GOOG", {}, {}),
        ("GOOG", {}, {"finalize_trades": True}),
        ("GOOG", {"n1": 5, "n2": 30}, {"commission": 0.002}),
        ("GOOG", {}, {"spread": 0.001, "trade_on_close": True}),
        ("GOOG-NY", {}, {"commission": 0.001}),
        ("EURUSD", {"n1": 20, "n2": 50}, {"cash": 100_000, "commission": (1.0, 0.0005)}),
    ],
    ids=[
        "goog-defaults",
        "goog-finalized",
        "goog-commission",
        "goog-spread-close",
        "goog-tz-aware",
        "eurusd",
    ],
)
def test_ported_sma_cross_equals_backtesting_py(
    name: str, params: dict[str, Any], settings: dict[str, Any]
) -> None:
    data = {
        "GOOG": GOOG,
        "GOOG-NY": GOOG.tz_localize("America/New_York"),
        "EURUSD": EURUSD,
    }[name]
    ours = Backtest(data, SmaCross, **settings).run(**params)
    theirs = oracle(data, OracleSmaCross, params, **settings)
    assert_same_run(ours, theirs)
    assert str(ours["_strategy"]) == str(theirs["_strategy"]).replace("Oracle", "")


def test_stats_series_looks_like_backtesting_py() -> None:
    """The Series has backtesting.py's shape: labels first, then the three `_` entries."""
    stats = Backtest(GOOG, SmaCross, finalize_trades=True).run(n1=10, n2=30)
    assert list(stats.index[:3]) == ["Start", "End", "Duration"]
    assert list(stats.index[-3:]) == ["_strategy", "_equity_curve", "_trades"]
    assert stats["_strategy"].n1 == 10 and stats["_strategy"].n2 == 30
    assert str(stats["_strategy"]) == "SmaCross(n1=10,n2=30)"
    assert isinstance(stats["_trades"]["Size"].iloc[0], np.integer)
    assert stats["_equity_curve"].index.equals(pd.DatetimeIndex(GOOG.index).as_unit("ns"))


def test_a_ported_strategy_runs_from_a_config_with_the_same_digest() -> None:
    """The compat class is an isoloop strategy: a run config naming it (what the CLI runs)
    gives the digest of the same run through compat's Backtest."""
    import isoloop

    config = {
        "strategy": {"class": "test_compat_parity:SmaCross", "params": {"n1": 5, "n2": 30}},
        "data": {"source": "sample:GOOG"},
        "venue": {"cash": 10_000, "commission": 0.002},
    }
    native = isoloop.run_backtest(config)
    bt = Backtest(GOOG, SmaCross, commission=0.002, finalize_trades=True, symbol="GOOG")
    stats = bt.run(n1=5, n2=30)
    assert bt.result is not None
    assert bt.result.digest == native.digest
    assert stats["Equity Final [$]"] == native.stats["equity_final"]
