"""`isoloop.run_backtest` / `isoloop.run_sweep` take a DataFrame and a Strategy class.

The same bars, settings and parameters give the CLI's digests: the frame is
backtesting.py's GOOG (the bars `sample:GOOG` reads), named GOOG as the CLI
names them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from backtesting.test import GOOG

import isoloop
from isoloop.cli import main
from isoloop.errors import ConfigError
from isoloop.examples.sma_cross import SmaCross

REPO = Path(__file__).resolve().parents[2]
SETTINGS = {"cash": 10_000, "commission": 0.0}


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(list(argv)) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def test_run_backtest_of_a_frame_gives_the_cli_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = _cli(
        capsys,
        "backtest",
        str(REPO / "configs" / "goog_sma.yaml"),
        "--json",
        "--out",
        str(tmp_path),
    )
    result = isoloop.run_backtest(
        GOOG, SmaCross, params={"fast": 10, "slow": 30}, symbol="GOOG", **SETTINGS
    )
    assert isinstance(result, isoloop.BacktestResult)
    assert result.digest == cli["digest"]
    assert result.stats == pytest.approx(cli["stats"], nan_ok=True)
    # Parameters as the dotted overrides a config takes: the same run.
    dotted = isoloop.run_backtest(
        GOOG,
        SmaCross,
        symbol="GOOG",
        **SETTINGS,
        **{"strategy.params.fast": 10, "strategy.params.slow": 30},
    )
    assert dotted.digest == cli["digest"]
    other = isoloop.run_backtest(
        GOOG, SmaCross, params={"fast": 12, "slow": 30}, symbol="GOOG", **SETTINGS
    )
    assert other.digest != cli["digest"]


def test_run_sweep_of_a_frame_gives_the_cli_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = _cli(
        capsys,
        "sweep",
        str(REPO / "configs" / "goog_sma_sweep.yaml"),
        "--json",
        "--executor",
        "serial",
        "--store",
        str(tmp_path / "s.sqlite"),
        "--out",
        str(tmp_path / "out"),
    )
    result = isoloop.run_sweep(
        GOOG,
        SmaCross,
        space={"fast": [5, 10, 15, 20, 25], "slow": range(10, 70, 5)},
        constraint="fast < slow",
        objective="sharpe_ratio",
        executor="serial",
        settings=SETTINGS,
        symbol="GOOG",
    )
    assert isinstance(result, isoloop.SweepResult)
    assert len(result.trials) == cli["trials_total"] == 50
    assert result.digest == cli["digest"]


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: isoloop.run_backtest(GOOG), "needs a Strategy class"),
        (lambda: isoloop.run_sweep(GOOG, SmaCross), "give space="),
        (lambda: isoloop.run_backtest(GOOG, SmaCross, out="x"), "out= goes with a config"),
        (
            lambda: isoloop.run_backtest(str(REPO / "configs" / "goog_sma.yaml"), SmaCross),
            "strategy go with a DataFrame",
        ),
        (
            lambda: isoloop.run_sweep(
                str(REPO / "configs" / "goog_sma_sweep.yaml"), space={"a": [1]}
            ),
            "space go with a DataFrame",
        ),
    ],
)
def test_mixed_up_arguments_are_one_clear_error(call: object, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        call()  # type: ignore[operator]
