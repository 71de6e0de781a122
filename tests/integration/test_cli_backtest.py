"""The backtest CLI end to end: JSON shape, run directory, verify, report, threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from backtesting.test import GOOG

from isoloop import run_backtest
from isoloop.cli import main
from support.browser import render, requires_chromium

ROOT = Path(__file__).resolve().parents[2]
GOOG_CFG = ROOT / "configs" / "goog_sma.yaml"
ISOLOOP = Path(sys.executable).parent / "isoloop"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def goog_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("runs")
    proc = subprocess.run(
        [str(ISOLOOP), "backtest", str(GOOG_CFG), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_backtest_json_has_the_contract_shape(goog_run: dict[str, object]) -> None:
    assert set(goog_run) == {"run_id", "run_dir", "stats", "order_list_hash", "digest"}
    stats = goog_run["stats"]
    assert isinstance(stats, dict)
    # backtesting.py's own suite asserts these for SmaCross(10, 30) on GOOG.
    assert stats["equity_final"] == pytest.approx(51_422.99, abs=0.01)
    assert stats["trades"] == 66
    assert len(str(goog_run["digest"])) == 64


def test_run_directory_holds_every_artifact(goog_run: dict[str, object]) -> None:
    run_dir = Path(str(goog_run["run_dir"]))
    for name in (
        "manifest.json",
        "trades.parquet",
        "trades.csv",
        "equity.parquet",
        "equity.csv",
        "events.jsonl",
        "events.csv",
        "orders.jsonl",
        "report.html",
    ):
        assert (run_dir / name).is_file(), name
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["digest"] == goog_run["digest"]
    assert manifest["config"]["strategy"]["params"] == {"fast": 10, "slow": 30}
    assert manifest["data"]["GOOG"]["bars"] == len(GOOG)
    assert {"python", "numpy", "pandas", "dependency-injector"} <= set(manifest["versions"])
    trades = pd.read_csv(run_dir / "trades.csv")
    assert len(trades) == 66
    assert pd.read_parquet(run_dir / "equity.parquet")["equity"].iloc[-1] == pytest.approx(
        51_422.99, abs=0.01
    )
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    assert {e["run_id"] for e in events} == {goog_run["run_id"]}
    assert "backtest_finished" in {e["event"] for e in events}
    assert len(pd.read_csv(run_dir / "events.csv")) == len(events)


def test_verify_reproduces_in_a_fresh_process_with_another_hash_seed(
    goog_run: dict[str, object],
) -> None:
    for seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [str(ISOLOOP), "verify", str(goog_run["run_dir"]), "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        outcome = json.loads(proc.stdout)
        assert outcome["ok"] is True
        assert outcome["digest"] == goog_run["digest"]


def test_verify_fails_on_a_tampered_manifest(
    goog_run: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "tampered"
    subprocess.run(["cp", "-r", str(goog_run["run_dir"]), str(copy)], check=True)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["config"]["strategy"]["params"]["fast"] = 12
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, out, _ = cli(capsys, "verify", str(copy))
    assert code == 1
    assert "config was edited" in out
    assert "digest" in out and "order list" in out


def test_verify_fails_when_the_data_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "goog.csv"
    GOOG.to_csv(data)
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        "strategy: {class: 'isoloop.examples.sma_cross:SmaCross', params: {fast: 10, slow: 30}}\n"
        "data: {source: 'csv:goog.csv', symbol: GOOG}\n"
    )
    code, out, err = cli(
        capsys, "backtest", str(cfg), "--out", str(tmp_path / "r"), "--json", "--no-report"
    )
    assert code == 0, err
    run_dir = Path(json.loads(out)["run_dir"])
    assert cli(capsys, "verify", str(run_dir))[0] == 0
    changed = GOOG.copy()
    changed.iloc[100, changed.columns.get_loc("Close")] += 0.5
    changed.to_csv(data)
    code, out, _ = cli(capsys, "verify", str(run_dir))
    assert code == 1
    assert "data for GOOG: fingerprint" in out


def test_four_threads_give_the_digests_of_serial_runs() -> None:
    params = [(5, 20), (10, 30), (15, 45), (20, 60)]
    base = {
        "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {}},
        "data": {"source": "sample:GOOG"},
        "venue": {"cash": 10_000, "commission": 0.002},
    }

    def run(fast: int, slow: int) -> str:
        return run_backtest(
            base, **{"strategy.params.fast": fast, "strategy.params.slow": slow}
        ).digest

    serial = {p: run(*p) for p in params}
    assert len(set(serial.values())) == 4
    threaded: dict[tuple[int, int], str] = {}
    barrier = threading.Barrier(len(params))

    def worker(p: tuple[int, int]) -> None:
        barrier.wait()
        threaded[p] = run(*p)

    threads = [threading.Thread(target=worker, args=(p,)) for p in params]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert threaded == serial


def test_set_overrides_are_yaml_typed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(
        capsys,
        "backtest",
        str(GOOG_CFG),
        "--set",
        "strategy.params.fast=12",
        "--set",
        "venue.commission=0.001",
        "--out",
        str(tmp_path),
        "--json",
        "--no-report",
    )
    assert code == 0, err
    manifest = json.loads((Path(json.loads(out)["run_dir"]) / "manifest.json").read_text())
    assert manifest["config"]["strategy"]["params"]["fast"] == 12
    assert manifest["config"]["venue"]["commission"] == 0.001
    assert json.loads(out)["stats"]["commissions"] > 0


def test_validate_checks_without_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "validate", str(GOOG_CFG))
    assert code == 0
    assert "GOOG 2148 bars" in out
    assert not (tmp_path / "results").exists()


def test_report_command_rewrites_the_report(
    goog_run: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = Path(str(goog_run["run_dir"]))
    (run_dir / "report.html").unlink()
    code, out, _ = cli(capsys, "report", str(run_dir))
    assert code == 0
    assert Path(out.strip()) == run_dir / "report.html"
    assert (run_dir / "report.html").stat().st_size > 100_000


@pytest.mark.browser
@requires_chromium
def test_backtest_report_opens_in_chromium_without_errors(
    goog_run: dict[str, object], tmp_path: Path
) -> None:
    page = Path(str(goog_run["run_dir"])) / "report.html"
    rendered = render(page, screenshot=tmp_path / "report.png")
    assert rendered.console_errors == []
    assert rendered.dom.count('class="main-svg"') >= 1
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_no_report_writes_no_report_and_the_default_writes_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(
        capsys, "backtest", str(GOOG_CFG), "--out", str(tmp_path / "a"), "--json", "--no-report"
    )
    assert code == 0, err
    bare = Path(json.loads(out)["run_dir"])
    assert not (bare / "report.html").exists()
    assert "report.html" not in json.loads((bare / "manifest.json").read_text())["files"]
    code, out, err = cli(capsys, "backtest", str(GOOG_CFG), "--out", str(tmp_path / "b"))
    assert code == 0, err
    assert "report.html" in out
    (full,) = (tmp_path / "b").iterdir()
    assert (full / "report.html").stat().st_size > 10_000
    assert cli(capsys, "verify", str(bare))[0] == 0
