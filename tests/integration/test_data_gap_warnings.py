"""A backtest or sweep on bars with a hole says so after its summary and records it."""

from __future__ import annotations

import json
from pathlib import Path

from backtesting.test import GOOG

from support.cli_run import run_isoloop


def holed_goog(tmp_path: Path) -> Path:
    """GOOG's daily bars with 2009-03-02 … 2009-03-27 missing (a 4-week hole)."""
    frame = GOOG[(GOOG.index < "2009-03-02") | (GOOG.index > "2009-03-27")]
    path = tmp_path / "goog_holed.csv"
    frame.to_csv(path)
    return path


def base(data: Path) -> dict[str, object]:
    return {
        "name": "holed",
        "data": {"source": f"csv:{data}", "symbol": "GOOG"},
        "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {}},
        "venue": {"cash": 10_000, "commission": 0.002},
    }


def gap_lines(stdout: str) -> list[str]:
    return [x for x in stdout.splitlines() if x.startswith("warning: data 'GOOG' has 1 gap")]


def test_a_backtest_on_holed_data_warns_and_the_manifest_records_it(tmp_path: Path) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(json.dumps(base(holed_goog(tmp_path))))
    done = run_isoloop("backtest", str(cfg), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = gap_lines(done.stdout)
    assert "2009-02-27 00:00 to 2009-03-30 00:00" in line
    assert done.stdout.index("backtest summary") < done.stdout.index(line)
    (manifest,) = (tmp_path / "out").glob("*/manifest.json")
    assert line.removeprefix("warning: ") in json.loads(manifest.read_text())["warnings"]


def test_a_sweep_on_holed_data_warns_once_and_the_summary_records_it(tmp_path: Path) -> None:
    cfg = tmp_path / "sweep.yaml"
    sweep = {
        "kind": "sweep",
        "base": base(holed_goog(tmp_path)),
        "space": {"fast": [5, 10], "slow": [20, 40]},
        "objective": {"metric": "return_pct", "direction": "maximize"},
        "executor": {"kind": "serial"},
    }
    cfg.write_text(json.dumps(sweep))
    done = run_isoloop("sweep", str(cfg), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = gap_lines(done.stdout)
    (summary,) = (tmp_path / "out").glob("*/summary.json")
    assert line.removeprefix("warning: ") in json.loads(summary.read_text())["warnings"]


def test_clean_sample_data_gives_no_gap_warning(tmp_path: Path) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(json.dumps(base(tmp_path / "goog.csv")))
    GOOG.to_csv(tmp_path / "goog.csv")
    done = run_isoloop("backtest", str(cfg), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "gap" not in done.stdout
