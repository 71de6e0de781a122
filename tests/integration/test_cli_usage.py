"""Usage errors and `--version`: one `error:` line and exit 2, never a traceback.

typer vendors its own click since 0.26, so these run through the real console
script as well as `main()`: a CLI that caught the wrong exception classes printed
tracebacks and exited 1 for every one of these.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from isoloop.cli import main

ISOLOOP = Path(sys.executable).parent / "isoloop"
USAGE_ERRORS = {
    "unknown_command": (["nosuch"], "No such command 'nosuch'"),
    "unknown_flag": (["backtest", "x.yaml", "--bogus"], "No such option: --bogus"),
    "missing_argument": (["backtest"], "Missing argument"),
    "bad_option_value": (["sweep", "x.yaml", "--workers", "many"], "--workers"),
    "blueprint_without_name": (["blueprint", "show"], "Missing argument"),
}


def test_version_prints_the_installed_version_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--version"]) == 0
    out, err = capsys.readouterr()
    assert out == f"isoloop {metadata.version('isoloop')}\n"
    assert err == ""


def test_version_matches_the_package() -> None:
    import isoloop

    assert isoloop.__version__ == metadata.version("isoloop")


@pytest.mark.parametrize("case", sorted(USAGE_ERRORS))
def test_usage_error_is_one_error_line_exit_2(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, expected = USAGE_ERRORS[case]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in out + err


def test_bare_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert "Usage" in out + err and "backtest" in out + err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("argv", "code", "stdout", "stderr"),
    [
        (["--version"], 0, "isoloop ", ""),
        (["nosuch"], 2, "", "error: No such command 'nosuch'."),
        (["backtest", "--bogus"], 2, "", "error: No such option: --bogus"),
        (["validate"], 2, "", "error: Missing argument"),
        (["blueprint", "show", "nosuch"], 2, "", "error: no blueprint named 'nosuch'"),
    ],
)
def test_console_script(argv: list[str], code: int, stdout: str, stderr: str) -> None:
    proc = subprocess.run(
        [str(ISOLOOP), *argv], capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == code, proc.stderr
    assert proc.stdout.startswith(stdout)
    if stderr:
        assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith(stderr)
    else:
        assert proc.stderr == ""
