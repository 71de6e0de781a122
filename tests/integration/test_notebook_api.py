"""The notebook API: a DataFrame of bars and a Strategy class, the same runs and digests as the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import isoloop
from isoloop.engine.strategy import Strategy
from isoloop.examples.sma_cross import SmaCross
from isoloop.notebook import NotebookResult, Report
from support.cli_run import TESTS, run_isoloop
from support.notebook_strategies import Breakout

REPO = Path(__file__).resolve().parents[2]
GOOG_SWEEP_SPACE = {"fast": [5, 10, 15, 20, 25], "slow": range(10, 70, 5)}


def goog() -> pd.DataFrame:
    """backtesting.py's bundled GOOG bars, read from the installed package at test time."""
    from backtesting.test import GOOG

    return GOOG.copy()


class LongAfterWarmup(Strategy):
    """Defined in this test module (a notebook's `__main__` stand-in): buys `size` units once."""

    def validate_params(self, params: dict[str, object]) -> dict[str, object]:
        return {"at": int(params.get("at", 50)), "size": int(params.get("size", 5))}  # type: ignore[call-overload]

    def on_bar(self, i: int) -> None:
        if i == self.params["at"]:
            self.buy(self.params["size"])


def test_run_equals_the_cli_backtest_stats_and_digest(tmp_path: Path) -> None:
    done = run_isoloop(
        "backtest",
        str(REPO / "configs" / "goog_sma.yaml"),
        "--json",
        "--out",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)

    bt = isoloop.Backtest(goog(), SmaCross, symbol="GOOG", cash=10_000, commission=0.0)
    result = bt.run(fast=10, slow=30)

    assert isinstance(result, NotebookResult)
    assert isinstance(result.stats, pd.Series)
    assert sorted(result.stats.index) == sorted(cli["stats"])  # the JSON's keys are sorted
    cli_stats = pd.Series(cli["stats"], dtype="float64")[result.stats.index]
    pd.testing.assert_series_equal(result.stats, cli_stats, check_exact=True, check_names=False)
    assert result.digest == cli["digest"]
    assert result.order_list_hash == cli["order_list_hash"]
    assert result.stats["trades"] == 66
    # The frame's bars fingerprint like the same bars read from the sample CSV.
    manifest = json.loads((Path(cli["run_dir"]) / "manifest.json").read_text())
    assert bt.fingerprint == manifest["data"]["GOOG"]["fingerprint"]
    # Trades and equity are DataFrames over the run's bars.
    assert isinstance(result.trades, pd.DataFrame) and len(result.trades) == 66
    assert isinstance(result.equity, pd.DataFrame)
    assert list(result.equity.columns) == ["equity", "drawdown_pct"]
    assert result.equity.index.equals(pd.DatetimeIndex(goog().index))
    assert result.equity["equity"].iloc[-1] == pytest.approx(51_422.99, abs=0.005)
    assert (result.equity["drawdown_pct"] <= 0).all()


def test_lowercase_columns_and_extra_columns_give_the_same_run() -> None:
    frame = goog()
    frame.columns = [c.lower() for c in frame.columns]
    frame["signal"] = np.arange(len(frame))
    plain = isoloop.Backtest(goog(), SmaCross, symbol="GOOG").run(fast=10, slow=30)
    other = isoloop.Backtest(frame, SmaCross, symbol="GOOG").run(fast=10, slow=30)
    assert other.digest == plain.digest


def test_settings_map_to_run_config_keys() -> None:
    bt = isoloop.Backtest(
        goog(),
        SmaCross,
        symbol="GOOG",
        cash=50_000,
        commission=0.002,
        fill="close",
        seed=3,
        **{"risk.max_order_size": 1_000},
    )
    result = bt.run(fast=10, slow=30)
    cfg = result.config
    assert (cfg.venue.cash, cfg.venue.commission, cfg.venue.fill.on) == (50_000, 0.002, "close")
    assert (cfg.seed, cfg.risk.max_order_size) == (3, 1_000)
    assert result.stats["commissions"] > 0
    default = isoloop.Backtest(goog(), SmaCross, symbol="GOOG").run(fast=10, slow=30)
    assert result.digest != default.digest


def test_an_unknown_setting_is_a_config_error_naming_it() -> None:
    with pytest.raises(isoloop.ConfigError, match="'comission'"):
        isoloop.Backtest(goog(), SmaCross, comission=0.001)


def test_a_strategy_class_defined_in_the_test_module_runs_and_is_reproducible() -> None:
    bt = isoloop.Backtest(goog(), LongAfterWarmup, symbol="GOOG")
    first, second = bt.run(at=40, size=7), bt.run(at=40, size=7)
    assert first.digest == second.digest
    assert first.stats["trades"] == 1
    assert first.trades["size"].iloc[0] == 7
    assert bt.run(at=41, size=7).digest != first.digest


def test_a_class_defined_inside_a_function_runs_but_cannot_be_swept() -> None:
    class Local(LongAfterWarmup):
        pass

    bt = isoloop.Backtest(goog(), Local, symbol="GOOG")
    assert bt.run(at=40, size=7).digest == (
        isoloop.Backtest(goog(), LongAfterWarmup, symbol="GOOG").run(at=40, size=7).digest
    )
    with pytest.raises(isoloop.ConfigError, match="top level"):
        bt.optimize(at=[40, 41], executor="serial")


def test_a_frame_without_close_is_a_data_error_naming_the_column() -> None:
    with pytest.raises(isoloop.DataError, match=r"missing column\(s\) Close"):
        isoloop.Backtest(goog().drop(columns=["Close"]), SmaCross)


def test_a_frame_with_a_bad_row_names_the_row_and_the_rule() -> None:
    frame = goog()
    frame.iloc[5, frame.columns.get_loc("High")] = 1.0
    with pytest.raises(isoloop.DataError, match=r"row 6 .*High"):
        isoloop.Backtest(frame, SmaCross)


def test_a_class_that_is_not_a_strategy_is_refused() -> None:
    with pytest.raises(
        isoloop.ConfigError, match=r"subclass of isoloop\.engine\.strategy\.Strategy"
    ):
        isoloop.Backtest(goog(), dict)  # type: ignore[arg-type]


def test_optimize_equals_the_cli_sweep_digest(tmp_path: Path) -> None:
    done = run_isoloop(
        "sweep",
        str(REPO / "configs" / "goog_sma_sweep.yaml"),
        "--json",
        "--executor",
        "serial",
        "--store",
        str(tmp_path / "cli.sqlite"),
        "--out",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)

    bt = isoloop.Backtest(goog(), SmaCross, symbol="GOOG", cash=10_000, commission=0.0)
    sweep = bt.optimize(
        **GOOG_SWEEP_SPACE,  # type: ignore[arg-type]
        constraint="fast < slow",
        objective="sharpe_ratio",
        executor="serial",
        store=tmp_path / "nb.sqlite",
    )
    assert (sweep.total, sweep.done, sweep.failed) == (cli["trials_total"], 50, 0)
    assert sweep.digest == cli["digest"]
    assert sweep.best is not None and sweep.best.params == cli["best"]["params"]
    # A rerun with the same store resumes: nothing runs again, same digest.
    again = bt.optimize(
        **GOOG_SWEEP_SPACE,  # type: ignore[arg-type]
        constraint="fast < slow",
        executor="serial",
        store=tmp_path / "nb.sqlite",
    )
    assert (again.executed, again.digest) == (0, sweep.digest)


@pytest.mark.parametrize("strategy", [Breakout, LongAfterWarmup], ids=["support", "test_module"])
def test_optimize_on_processes_equals_serial_and_single_runs(strategy: type[Strategy]) -> None:
    space = {"size": [3, 5]} | (
        {"lookback": [10, 20]} if strategy is Breakout else {"at": [30, 60]}
    )
    bt = isoloop.Backtest(goog(), strategy, symbol="GOOG")
    serial = bt.optimize(space, objective="equity_final", executor="serial")
    process = bt.optimize(space, objective="equity_final", executor="process", workers=2)
    assert serial.failed == 0 and process.failed == 0, process.trials["error"].tolist()
    assert serial.total == 4
    assert process.digest == serial.digest
    # Each trial is the same run as `.run()` with its parameters.
    for _, row in serial.trials.iterrows():
        assert bt.run(**row["params"]).digest == row["digest"]


def test_plot_writes_the_report_and_renders_inline(tmp_path: Path) -> None:
    bt = isoloop.Backtest(goog(), SmaCross, symbol="GOOG")
    result = bt.run(fast=10, slow=30)
    report = bt.plot(tmp_path / "report.html")
    assert isinstance(report, Report)
    assert report.path == tmp_path / "report.html"
    text = report.path.read_text(encoding="utf-8")
    assert "equity_final" in text and result.run_id in text
    # The parameters and the data's fingerprint, as a run folder's report shows them.
    assert result.result.fingerprints["GOOG"] in text
    shown = report._repr_html_()
    assert shown.startswith("<iframe srcdoc=")
    assert "&lt;!DOCTYPE html&gt;" in shown and "<!DOCTYPE" not in shown


MAIN_SCRIPT = """
import json
from backtesting.test import GOOG
import isoloop
from support.notebook_strategies import Breakout

class MainBreakout(Breakout):  # defined in __main__, as in a notebook cell
    pass

bt = isoloop.Backtest(GOOG, MainBreakout, symbol="GOOG")
space = {"lookback": [10, 20], "size": [3, 5]}
serial = bt.optimize(space, objective="equity_final", executor="serial")
process = bt.optimize(space, objective="equity_final", executor="process", workers=2)
print(json.dumps({
    "class_path": bt.run(lookback=10, size=3).config.strategy.class_path,
    "run": bt.run(lookback=10, size=3).digest,
    "serial": serial.digest,
    "process": process.digest,
    "failed": process.failed,
}))
"""


def test_a_class_defined_in_main_runs_and_sweeps_on_forked_processes(tmp_path: Path) -> None:
    script = tmp_path / "notebook.py"
    script.write_text(MAIN_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONPATH": str(TESTS)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["class_path"] == "__main__:MainBreakout"
    assert out["failed"] == 0
    assert out["process"] == out["serial"]
    same = isoloop.Backtest(goog(), Breakout, symbol="GOOG").run(lookback=10, size=3)
    assert out["run"] == same.digest
