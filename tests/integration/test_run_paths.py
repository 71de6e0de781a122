"""Run and sweep names cannot lead output out of `--out`.

A name is refused unless it matches the safe pattern (exit 2, one `error:` line
naming the key and the pattern, nothing written anywhere); and every output
folder is resolved and refused when it lands outside its output folder (a
symlink planted in `--out`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from isoloop.backtest.run import run_backtest
from isoloop.errors import UnsafePathError

ROOT = Path(__file__).resolve().parents[2]
GOOG_CFG = ROOT / "configs" / "goog_sma.yaml"
PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,99}"


def isoloop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "isoloop.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=240,
    )


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def assert_one_error_line(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.mark.parametrize(
    "name",
    [
        "../../escaped/ESCAPED",  # out/../../escaped → beside the working folder
        "ABSOLUTE",  # replaced by an absolute path into the tmp tree below
        "sub/dir",
        "..",
        ".hidden",
        "x" * 5_000,  # under the --set value cap, over the name pattern's 100
    ],
    ids=["dotdot", "absolute", "slash", "parent", "dotfile", "5k-chars"],
)
def test_an_unsafe_run_name_is_refused_and_nothing_is_written(
    tmp_path: Path, work: Path, name: str
) -> None:
    if name == "ABSOLUTE":
        name = str(tmp_path / "abs" / "ESCAPED")
    before = tree(tmp_path)
    proc = isoloop("backtest", str(GOOG_CFG), "--set", f"name={name}", "--out", "out", cwd=work)
    # (A name over 100 characters may be refused by the config's own length limit first.)
    words = ("name", str(GOOG_CFG)) if len(name) > 100 else ("name", PATTERN, str(GOOG_CFG))
    assert_one_error_line(proc, *words)
    assert len(proc.stderr) < 400  # the value is not echoed back (it may be thousands long)
    assert tree(tmp_path) == before


def test_validate_refuses_the_same_name(tmp_path: Path, work: Path) -> None:
    before = tree(tmp_path)
    proc = isoloop("validate", str(GOOG_CFG), "--set", "name=../x/ESCAPED", cwd=work)
    assert_one_error_line(proc, "name", PATTERN)
    assert tree(tmp_path) == before


def test_a_safe_name_lands_in_its_output_folder(work: Path) -> None:
    proc = isoloop(
        "backtest",
        str(GOOG_CFG),
        "--set",
        "name=goog.v2_run-1",
        "--out",
        "out",
        "--json",
        "--no-report",
        cwd=work,
    )
    assert proc.returncode == 0, proc.stderr
    run_dir = (work / json.loads(proc.stdout)["run_dir"]).resolve()
    assert run_dir.parent == (work / "out").resolve()
    assert run_dir.name.startswith("goog.v2_run-1-")
    assert (run_dir / "manifest.json").is_file()


def test_a_run_folder_that_is_a_symlink_out_of_the_output_folder_is_refused(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    outside = tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "r1").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePathError, match="outside the output folder"):
        run_backtest(GOOG_CFG, out=out, run_id="r1", report=False)
    assert list(outside.iterdir()) == []
    assert tree(out) == {"r1"}


def write_sweep(work: Path, name: str) -> Path:
    (work / "base.yaml").write_text(
        f"name: {json.dumps(name)}\n"
        "strategy: {class: 'isoloop.examples.sma_cross:SmaCross', params: {fast: 10, slow: 30}}\n"
        "data: {source: 'sample:GOOG'}\n",
        encoding="utf-8",
    )
    sweep = work / "sweep.yaml"
    sweep.write_text(
        "kind: sweep\n"
        "base: base.yaml\n"
        "space: {fast: [5, 10], slow: [30]}\n"
        "objective: {metric: sharpe_ratio, direction: maximize}\n"
        "search: {method: grid}\n"
        "executor: {kind: serial}\n"
        "store: store.sqlite\n",
        encoding="utf-8",
    )
    return sweep


def test_an_unsafe_sweep_name_is_refused_before_anything_runs(tmp_path: Path, work: Path) -> None:
    sweep = write_sweep(work, "../../escaped/SWEEP")
    before = tree(tmp_path)
    proc = isoloop("sweep", str(sweep), "--out", "out", "--json", cwd=work)
    assert_one_error_line(proc, "name", PATTERN)
    assert proc.stdout == ""
    assert tree(tmp_path) == before  # no store, no sweep folder, nothing beside `work`


def test_a_sweep_folder_planted_as_a_symlink_out_of_out_is_refused(
    tmp_path: Path, work: Path
) -> None:
    sweep = write_sweep(work, "goog")
    first = isoloop("sweep", str(sweep), "--out", "out", "--json", cwd=work)
    assert first.returncode == 0, first.stderr
    sweep_id = json.loads(first.stdout)["sweep_id"]
    folder = work / "out" / sweep_id
    assert {p.name for p in folder.iterdir()} == {
        "trials.csv",
        "summary.json",
        "report.html",
        "best_equity.csv",
    }
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    folder.symlink_to(outside, target_is_directory=True)
    again = isoloop("sweep", str(sweep), "--out", "out", "--json", cwd=work)
    assert_one_error_line(again, "outside the output folder")
    assert list(outside.iterdir()) == []
