"""Indicators declared with `self.I(...)`: the warm-up they imply, their names, their arrays.

backtesting.py is the oracle for the warm-up rule: the same strategy, written in
both engines with its indicators declared once, must trade on the same bars and
give the same statistics, computed at test time on the same bars.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import structlog
from backtesting import Backtest as OracleBacktest
from backtesting import Strategy as OracleStrategy
from backtesting.test import EURUSD, GOOG

import isoloop
from isoloop.backtest import RunOutput
from isoloop.engine.indicators import NO_INDICATORS
from isoloop.engine.strategy import Strategy
from isoloop.errors import InputError, StrategyParamError
from isoloop.examples.sma_cross import SmaCross, crossover_signals, sma
from support.cli_run import one_error_line, run_isoloop
from support.harness import build, make_config, market
from support.oracle import oracle_run

QUIET = structlog.get_logger("test").bind(run_id="test")


def rolling_mean(values: Any, n: int) -> pd.Series:
    """A pandas rolling mean: the same floats in both engines."""
    return pd.Series(values).rolling(n).mean()


def band(close: Any, n: int, width: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Bollinger-like band: three lines, the outer two warming up later than the middle."""
    c = pd.Series(close)
    mid = c.rolling(n).mean()
    dev = c.rolling(2 * n).std()
    return (mid - width * dev).to_numpy(), mid.to_numpy(), (mid + width * dev).to_numpy()


class IndicatorSmaCross(Strategy):
    """SmaCross with its SMAs declared through `self.I` and no explicit warm-up."""

    def init(self) -> None:
        fast = self.I(sma, self.data.close, int(self.params.get("fast", 10)))
        slow = self.I(sma, self.data.close, int(self.params.get("slow", 30)))
        self._up = crossover_signals(fast, slow).tolist()
        self._down = crossover_signals(slow, fast).tolist()

    def on_bar(self, i: int) -> None:
        if self._up[i]:
            self.close()
            self.buy()
        elif self._down[i]:
            self.close()
            self.sell()


class BuyOnFirstBar(Strategy):
    """Buys 1 unit on its first `on_bar` call: the trade's entry bar shows when that was."""

    def init(self) -> None:
        n = int(self.params.get("n", 20))
        self.I(band, self.data.close, n, 2.0, name=("lower", "mid", "upper"))
        self.I(rolling_mean, self.data.volume, n // 2)

    def on_bar(self, i: int) -> None:
        if not self.position():
            self.buy(1)


class OracleBuyOnFirstBar(OracleStrategy):
    n = 20

    def init(self) -> None:
        self.band = self.I(band, self.data.Close, self.n, 2.0)
        self.vol = self.I(rolling_mean, self.data.Volume, self.n // 2)

    def next(self) -> None:
        if not self.position:
            self.buy(size=1)


def engine_run(cls: type[Strategy], params: dict[str, Any] | None = None) -> tuple[Any, RunOutput]:
    cfg = make_config(data__symbol="GOOG", venue__cash=10_000)
    run = build(cfg, market(("GOOG", GOOG)), cls, params or {}, log=QUIET)
    return run.strategy, run.engine.run()


def declare(make: Callable[[Any], Any]) -> tuple[Any, RunOutput]:
    """Run a strategy whose `init` is `make(self)` (no orders) and return it with its output."""

    class Declares(Strategy):
        def init(self) -> None:
            make(self)

    return engine_run(Declares)


# -- the warm-up, against backtesting.py ----------------------------------------------------


@pytest.mark.parametrize(("fast", "slow"), [(10, 30), (5, 20), (20, 50)])
def test_sma_cross_through_I_trades_like_backtesting_py_without_a_warmup_setting(
    fast: int, slow: int
) -> None:
    oracle = oracle_run(GOOG, fast, slow, cash=10_000)
    result = isoloop.Backtest(GOOG, IndicatorSmaCross, symbol="GOOG", cash=10_000).run(
        fast=fast, slow=slow
    )
    ours, theirs = result.trades, oracle._trades
    assert len(ours) == len(theirs) == oracle["# Trades"]
    assert ours["entry_bar"].iloc[0] == theirs["EntryBar"].iloc[0]  # the first trade's bar
    np.testing.assert_array_equal(ours["entry_bar"], theirs["EntryBar"])
    np.testing.assert_array_equal(ours["exit_bar"], theirs["ExitBar"])
    np.testing.assert_allclose(ours["pnl"], theirs["PnL"], rtol=1e-9, atol=1e-9)
    assert result.result.warmup_bars == slow - 1
    stats = result.stats
    # Buy & hold starts at the first tradable bar: it moves with the warm-up.
    for ours_key, theirs_key in (
        ("equity_final", "Equity Final [$]"),
        ("return_pct", "Return [%]"),
        ("buy_hold_return_pct", "Buy & Hold Return [%]"),
        ("exposure_pct", "Exposure Time [%]"),
        ("sharpe_ratio", "Sharpe Ratio"),
        ("max_drawdown_pct", "Max. Drawdown [%]"),
        ("win_rate_pct", "Win Rate [%]"),
        ("sqn", "SQN"),
    ):
        assert stats[ours_key] == pytest.approx(oracle[theirs_key], rel=1e-9, abs=1e-12), ours_key
    # Declared indicators give the same run (and digest) as the example's explicit warm-up.
    explicit = isoloop.Backtest(GOOG, SmaCross, symbol="GOOG", cash=10_000).run(
        fast=fast, slow=slow
    )
    assert result.digest == explicit.digest


@pytest.mark.parametrize("n", [7, 20, 40])
def test_first_on_bar_waits_for_every_line_of_every_indicator_like_backtesting_py(n: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = OracleBacktest(GOOG, OracleBuyOnFirstBar, cash=10_000, finalize_trades=True).run(
            n=n
        )
    strategy, out = engine_run(BuyOnFirstBar, {"n": n})
    # The band's outer lines (a 2n-bar deviation) are the last to get values.
    assert out.warmup_bars == 2 * n - 1 == strategy.warmup
    assert out.trades["entry_bar"].iloc[0] == oracle._trades["EntryBar"].iloc[0] == 2 * n + 1


def test_an_explicit_warmup_counts_too_and_the_larger_wins() -> None:
    class Longer(IndicatorSmaCross):
        warmup = 100

    class Shorter(IndicatorSmaCross):
        def init(self) -> None:
            super().init()
            self.warmup = 3  # lowered after self.I(...): the indicators still hold it back

    _, longer = engine_run(Longer)
    _, shorter = engine_run(Shorter)
    _, plain = engine_run(IndicatorSmaCross)
    assert longer.warmup_bars == 100
    assert longer.trades["entry_bar"].min() > 101
    assert shorter.warmup_bars == plain.warmup_bars == 29
    np.testing.assert_array_equal(shorter.equity, plain.equity)
    assert Longer.warmup == 100 and IndicatorSmaCross.warmup == 0  # the class is untouched


def test_an_indicator_that_never_has_a_value_means_no_on_bar_call() -> None:
    # backtesting.py's documented rule (begin once every indicator has a value) taken
    # at its word: a line that is NaN throughout is never ready.
    class Never(BuyOnFirstBar):
        def init(self) -> None:
            self.I(lambda: np.full(len(self.index), np.nan), name="void")

    _, out = engine_run(Never)
    assert out.warmup_bars == len(GOOG)
    assert out.trades.empty and out.equity[-1] == 10_000


# -- what I returns and registers -------------------------------------------------------------


def test_the_returned_array_is_read_only_and_a_copy_of_what_the_function_gave() -> None:
    mine = np.arange(len(GOOG), dtype=float)
    seen: dict[str, np.ndarray] = {}

    def make(s: Any) -> None:
        seen["x"] = s.I(lambda: mine, name="ramp")

    strategy, out = declare(make)
    arr = seen["x"]
    assert arr.dtype == np.float64 and arr.shape == (len(GOOG),)
    with pytest.raises(ValueError, match="read-only"):
        arr[5] = 0.0
    mine[5] = -1.0  # the strategy's own array stays its own
    assert arr[5] == 5.0
    assert out.indicators["ramp"].values is arr
    assert strategy.indicators["ramp"].values is arr


def test_default_names_spell_the_function_and_its_arguments() -> None:
    def make(s: Any) -> None:
        s.I(sma, s.data.close, 10)
        s.I(sma, s.data.high, 5)
        s.I(rolling_mean, pd.Series(s.data.volume, name="vol"), n=3)
        s.I(lambda: s.data.close * 1.01)
        s.I(sma, s.data.close, 10)  # the same again: numbered, not lost

    _, out = declare(make)
    assert list(out.indicators) == [
        "sma(C,10)",
        "sma(H,5)",
        "rolling_mean(vol,3)",
        "λ",
        "sma(C,10) #2",
    ]
    assert out.indicators["sma(C,10) #2"].lines == ("sma(C,10) #2",)


def test_default_names_spell_extra_columns_and_other_symbols() -> None:
    goog = GOOG.copy()
    goog["PE"] = np.linspace(20.0, 30.0, len(goog))

    class Uses(Strategy):
        def init(self) -> None:
            self.I(sma, self.data["PE"], 5)
            self.I(sma, self.market["EURUSD"].close, 5)

    cfg = make_config(data__symbol="GOOG")
    data = market(("GOOG", goog), ("EURUSD", EURUSD))
    out = build(cfg, data, Uses, {}, log=QUIET).engine.run()
    assert list(out.indicators) == ["sma(PE,5)", "sma(EURUSD.C,5)"]


def test_several_lines_in_any_orientation_and_labelled() -> None:
    n = len(GOOG)

    def make(s: Any) -> None:
        c = s.data.close
        s.I(band, c, 20, 2.0, name="bb")
        s.I(lambda: np.column_stack([c, c * 2]), name="stacked")  # (bars, lines)
        s.I(lambda: pd.DataFrame({"fast": sma(c, 5), "slow": sma(c, 9)}), name="pair")
        s.I(band, c, 10, 1.0, name=["lo", "mid", "hi"])

    _, out = declare(make)
    bb = out.indicators["bb"]
    assert bb.values.shape == (3, n) and bb.lines == ("bb[0]", "bb[1]", "bb[2]")
    assert bb.warmup == 39 and not bb.values.flags.writeable
    stacked = out.indicators["stacked"].values
    assert stacked.shape == (2, n)
    np.testing.assert_array_equal(stacked[1], GOOG["Close"].to_numpy() * 2)
    assert out.indicators["pair"].lines == ("pair[fast]", "pair[slow]")
    assert out.indicators["pair"].warmup == 8
    assert out.indicators["lo, mid, hi"].lines == ("lo", "mid", "hi")


def test_overlay_defaults_to_price_like_values_and_can_be_set() -> None:
    def rsi_like(close: np.ndarray) -> np.ndarray:
        return 50.0 + 40.0 * np.tanh(pd.Series(close).pct_change().rolling(14).mean() * 50)

    def make(s: Any) -> None:
        s.I(sma, s.data.close, 20)
        s.I(rsi_like, s.data.close)
        s.I(sma, s.data.close, 50, overlay=False)
        s.I(rsi_like, s.data.close, name="forced", overlay=True, plot=False)

    _, out = declare(make)
    flags = {k: (v.overlay, v.plot) for k, v in out.indicators.items()}
    assert flags == {
        "sma(C,20)": (True, True),
        "rsi_like(C)": (False, True),
        "sma(C,50)": (False, True),
        "forced": (True, False),
    }


def test_overlay_guess_agrees_with_backtesting_py_on_eurusd() -> None:
    """EURUSD trades near 1.0: a 0–100 oscillator there must still get its own panel."""

    def osc(close: Any) -> np.ndarray:
        return 100 * (pd.Series(close).rank(pct=True)).to_numpy()

    def near(close: Any) -> np.ndarray:
        return pd.Series(close).rolling(30).mean().to_numpy() * 1.2

    class Oracle(OracleStrategy):
        def init(self) -> None:
            self.a = self.I(osc, self.data.Close)
            self.b = self.I(near, self.data.Close)

        def next(self) -> None:
            pass

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = OracleBacktest(EURUSD, Oracle, cash=100_000).run()
    theirs = [bool(ind._opts["overlay"]) for ind in stats._strategy._indicators]

    class Ours(Strategy):
        def init(self) -> None:
            self.I(osc, self.data.close)
            self.I(near, self.data.close)

    cfg = make_config(data__symbol="EURUSD", venue__cash=100_000)
    out = build(cfg, market(("EURUSD", EURUSD)), Ours, {}, log=QUIET).engine.run()
    assert [ind.overlay for ind in out.indicators.values()] == theirs == [False, True]


def test_a_strategy_without_indicators_shares_the_empty_mapping() -> None:
    _, out = engine_run(SmaCross, {"fast": 10, "slow": 30})
    assert out.indicators is NO_INDICATORS
    assert out.warmup_bars == 29


# -- bad declarations: one clear error naming the indicator -----------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda s: s.I(lambda: np.ones(10), name="short"), r"'short'.*\(10,\).*2148 bars"),
        (lambda s: s.I(lambda: np.ones((2, 3, 2148))), r"'λ'.*shape \(2, 3, 2148\)"),
        (lambda s: s.I(lambda: 3.0, name="scalar"), r"'scalar'.*shape \(\)"),
        (lambda s: s.I(lambda: ["x"] * 2148, name="words"), r"'words'.*not numbers"),
        (
            lambda s: [s.I(sma, s.data.close, 5, name="m"), s.I(sma, s.data.close, 9, name="m")],
            r"'m'.*already declared",
        ),
        (lambda s: s.I(band, s.data.close, 5, 1.0, name=["a", "b"]), r"2 line names.*3 lines"),
        (lambda s: s.I(sma, s.data.close, 5, name=7), r"name= must be a string"),
    ],
    ids=["length", "3-d", "scalar", "strings", "duplicate", "line-names", "name-type"],
)
def test_a_bad_indicator_is_an_input_error_naming_it(
    make: Callable[[Any], Any], message: str
) -> None:
    with pytest.raises(StrategyParamError, match=message):
        declare(make)


def test_declaring_after_init_is_refused() -> None:
    class Late(Strategy):
        def on_bar(self, i: int) -> None:
            self.I(sma, self.data.close, 5)

    with pytest.raises(StrategyParamError, match=r"sma\(C,5\).*in init\(\)"):
        engine_run(Late)


def test_an_exception_inside_the_indicator_function_says_which_indicator() -> None:
    def broken(close: Any) -> np.ndarray:
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError) as info:
        declare(lambda s: s.I(broken, s.data.close))
    assert any("broken(C)" in note for note in info.value.__notes__)


def test_the_cli_prints_one_error_line_for_a_bad_indicator(tmp_path: Path) -> None:
    (tmp_path / "short_ind.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            from isoloop.engine.strategy import Strategy

            class Short(Strategy):
                def init(self):
                    self.I(lambda: np.ones(5), name="too short")
            """
        )
    )
    (tmp_path / "run.yaml").write_text(
        "strategy: {class: 'short_ind:Short'}\ndata: {source: 'sample:GOOG'}\n"
    )
    done = run_isoloop("backtest", "run.yaml", "--out", str(tmp_path / "out"), cwd=tmp_path)
    line = one_error_line(done)
    assert "'too short'" in line and "2148 bars" in line
    assert issubclass(StrategyParamError, InputError)
