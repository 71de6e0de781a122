"""docs/strategy-guide.md, followed to the letter by a newcomer.

The guide's files (code blocks with a `title="my_project/…"`) are written into an
empty folder, its shell commands run there with the installed `isoloop` and no
`PYTHONPATH` (so from a working folder that is not the config's), and its
notebook cell runs in `my_project/` as a notebook would. Nothing is copied from
the guide into this test: a guide that stops working fails here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "strategy-guide.md"
BIN = Path(sys.executable).parent
FENCE = re.compile(r'^```(\w+)(?: title="([^"]*)")?\n(.*?)^```$', re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[str, str, str]]:
    """(language, title, code) of every fenced block of the guide, in order."""
    return [(m[1], m[2] or "", m[3]) for m in FENCE.finditer(GUIDE.read_text(encoding="utf-8"))]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FORCE_COLOR")}
    env.update(NO_COLOR="1", COLUMNS="120")
    return env


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=600, check=False
    )


def _digest(stdout: str) -> str:
    found = re.findall(r"^digest\s+([0-9a-f]{64})$", stdout, flags=re.MULTILINE)
    assert len(found) == 1, stdout
    return found[0]


@dataclass
class Followed:
    """The folder the guide was followed in, and each command's output by its line."""

    work: Path
    runs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    def out(self, pattern: str) -> str:
        lines = [c for c in self.runs if re.fullmatch(pattern, c)]
        assert len(lines) == 1, (pattern, list(self.runs))
        return self.runs[lines[0]].stdout


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> Followed:
    """Write the guide's files, run its commands in order, then its notebook cell."""
    work = tmp_path_factory.mktemp("newcomer")
    files = [(t, code) for lang, t, code in _blocks() if t.startswith("my_project/")]
    assert {t for t, _ in files} >= {
        "my_project/my_strategy.py",
        "my_project/run.yaml",
        "my_project/sweep.yaml",
        "my_project/read_results.py",
    }
    for title, code in files:
        path = work / title
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding="utf-8")
    commands = [
        line.strip()
        for lang, _, code in _blocks()
        if lang == "sh"
        for line in code.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands, "the guide has no shell commands"
    outputs = Followed(work)
    for line in commands:
        argv = shlex.split(line)
        # `isoloop` and `python` are the ones of the environment isoloop is installed in.
        program = {"isoloop": str(BIN / "isoloop"), "python": sys.executable}[argv[0]]
        outputs.runs[line] = proc = _run([program, *argv[1:]], work)
        assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, proc.stderr
    notebook = [code for _, t, code in _blocks() if t.startswith("notebook cell")]
    assert len(notebook) == 1
    (work / "my_project" / "_notebook_cell.py").write_text(notebook[0], encoding="utf-8")
    outputs.runs["notebook"] = proc = _run(
        [sys.executable, "_notebook_cell.py"], work / "my_project"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return outputs


def test_validate_names_the_users_strategy(
    followed: Followed,
) -> None:
    out = followed.out(r"isoloop validate my_project/run\.yaml")
    assert out.startswith("ok my_project/run.yaml: backtest of my_strategy:SmaAtr on GOOG")


def test_backtest_trades_with_brackets(
    followed: Followed,
) -> None:
    report = json.loads(followed.out(r"isoloop backtest my_project/run\.yaml --json"))
    stats = report["stats"]
    assert stats["trades"] > 10 and stats["commissions"] > 0
    assert stats["equity_final"] != 10_000 and stats["exposure_pct"] > 0
    # The run folder is under the working folder's results/ (the CLI's default --out).
    run_dir = followed.work / report["run_dir"]
    assert run_dir.parent == followed.work / "results"
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["strategy"]["class"] == "my_strategy:SmaAtr"
    # Both runs of the same config give the same digest.
    assert _digest(followed.out(r"isoloop backtest my_project/run\.yaml")) == report["digest"]


def test_read_results_shows_bracketed_trades(
    followed: Followed,
) -> None:
    out = followed.out(r"python my_project/read_results\.py")
    assert "equity_final" in out and "sharpe_ratio" in out
    assert "cross-up" in out  # the tag the strategy gave its entries
    stops, targets = (int(n) for n in re.findall(r"took profit: (\d+) / (\d+)", out)[0])
    assert stops > 0 and targets > 0  # both brackets closed trades


def test_sweep_runs_every_trial(followed: Followed) -> None:
    out = followed.out(r"isoloop sweep my_project/sweep\.yaml")
    counts = re.search(r"(\d+) trials, (\d+) done, (\d+) failed", out)
    assert counts is not None, out
    total, done, failed = (int(x) for x in counts.groups())
    # 3 × 3 × 3 points; every fast is below every slow, so the constraint keeps all 27.
    assert total == done == 27 and failed == 0


def test_notebook_cell_gives_the_cli_digests(
    followed: Followed,
) -> None:
    out = followed.runs["notebook"].stdout
    run = re.search(r"^run digest ([0-9a-f]{64})$", out, flags=re.MULTILINE)
    sweep = re.search(r"^sweep digest ([0-9a-f]{64})$", out, flags=re.MULTILINE)
    assert run is not None and sweep is not None, out
    assert run[1] == _digest(followed.out(r"isoloop backtest my_project/run\.yaml"))
    assert sweep[1] == _digest(followed.out(r"isoloop sweep my_project/sweep\.yaml"))
    assert "cross-up" in out


def test_the_guide_links_every_step_and_is_linked_from_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "docs/strategy-guide.md" in readme
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", GUIDE.read_text(encoding="utf-8")):
        assert (GUIDE.parent / target).is_file(), target
