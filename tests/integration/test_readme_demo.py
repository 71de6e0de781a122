"""The README's sample outputs are what the commands print today.

The expected text is read from README.md at test time (never copied here), so
the README cannot drift from the code: the demo sweep (`make demo`: the same
config, executor and workers; only the store and the report folder are in a
temporary directory) prints the README's sweep line, best-trials table and
digest; the single backtest its table, digest and run id's config hash; `verify`
the same digest; and the `--set`/`validate` examples their lines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
ISOLOOP = Path(sys.executable).parent / "isoloop"


def _console_block(first_command: str) -> list[str]:
    """The lines of the README's ```console block whose first line is `$ <first_command>`."""
    text = README.read_text(encoding="utf-8")
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        lines = block.rstrip("\n").split("\n")
        if lines[0] == f"$ {first_command}":
            return lines
    raise AssertionError(f"README.md has no console block starting with `$ {first_command}`")


def _env() -> dict[str, str]:
    # Plain text as in a pipe (the README shows no colours); the width a terminal had.
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "PYTHONPATH")}
    env.update(COLUMNS="80", NO_COLOR="1")
    return env


def _isoloop(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ISOLOOP), *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _through(lines: list[str], prefix: str) -> list[str]:
    """`lines` up to and including the first line starting with `prefix`."""
    for i, line in enumerate(lines):
        if line.startswith(prefix):
            return lines[: i + 1]
    raise AssertionError(f"no line starting with {prefix!r} in:\n" + "\n".join(lines))


def test_make_demo_prints_the_readme_sweep_and_digest(tmp_path: Path) -> None:
    block = _console_block("make demo")
    # The second line is the command make echoes: `make demo` runs exactly this config.
    assert block[1] == ".venv/bin/isoloop sweep configs/goog_sma_sweep.yaml"
    expected = _through(block[2:], "digest ")
    readme_digest = expected[-1].split()[1]

    proc = _isoloop(
        tmp_path,
        "sweep",
        str(REPO / "configs" / "goog_sma_sweep.yaml"),
        "--store",
        str(tmp_path / "demo.sqlite"),
        "--out",
        str(tmp_path / "results"),
    )
    assert proc.returncode == 0, proc.stderr
    printed = proc.stdout.splitlines()
    digest = _through(printed, "digest ")[-1].split()[1]
    assert digest == readme_digest, "the demo sweep's digest is not the one README.md quotes"
    # The sweep line (id, counts), the best-trials table and the digest, line for line.
    assert _through(printed, "digest ") == expected
    sweep_id = expected[0].split()[1].rstrip(":")
    report = next(line for line in printed if line.startswith("report "))
    assert report.endswith(f"/{sweep_id}/report.html")
    assert (tmp_path / "results" / sweep_id / "report.html").is_file()


def test_backtest_and_verify_print_the_readme_digest(tmp_path: Path) -> None:
    block = _console_block(".venv/bin/isoloop backtest configs/goog_sma.yaml")
    expected = _through(block[1:], "digest ")
    readme_digest = expected[-1].split()[1]
    readme_run_id = expected[0].split()[1]

    proc = _isoloop(
        tmp_path, "backtest", str(REPO / "configs" / "goog_sma.yaml"), "--out", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    printed = _through(proc.stdout.splitlines(), "digest ")
    # The summary table and the digest, line for line.
    assert printed[1:] == expected[1:]
    # A run id is <name>-<UTC time>-<config hash>: name and config hash are the README's.
    run_id = printed[0].split()[1]
    assert run_id.split("-")[0] == readme_run_id.split("-")[0]
    assert run_id.split("-")[-1] == readme_run_id.split("-")[-1]

    verify_block = _console_block(f".venv/bin/isoloop verify results/{readme_run_id}")
    assert verify_block[1].endswith(f"digest {readme_digest} reproduced")
    verified = _isoloop(tmp_path, "verify", str(tmp_path / run_id))
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.strip().endswith(f"digest {readme_digest} reproduced")


@pytest.mark.parametrize("first", ["backtest", "validate"])
def test_set_and_validate_examples_print_the_readme_lines(first: str) -> None:
    block = _console_block(
        ".venv/bin/isoloop backtest configs/goog_sma.yaml --set strategy.params.fast=40"
    )
    # The block: $ backtest --set …, its error, $ echo $?, 2, $ validate …, its line.
    commands = [i for i, line in enumerate(block) if line.startswith("$ ")]
    if first == "backtest":
        argv = block[0].removeprefix("$ .venv/bin/isoloop ").split()
        proc = _isoloop(REPO, *argv)
        assert proc.returncode == int(block[commands[1] + 1])
        assert proc.stderr.splitlines() == [block[1]]
        assert proc.stdout == ""
    else:
        line = block[commands[2]]
        argv = line.removeprefix("$ .venv/bin/isoloop ").split()
        proc = _isoloop(REPO, *argv)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == [block[commands[2] + 1]]
