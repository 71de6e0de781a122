"""CLI start-up: how long an `isoloop` command takes before it does any work.

Each command runs as a fresh subprocess (the installed console script, as a
user types it), N times; the rounds interleave the commands so that a busy
moment of a shared machine hits all of them alike. Reported: the median and
the fastest wall time of each, and the median as a multiple of `python -c
pass` (the interpreter's own start-up, the floor of any Python CLI). `python
-c "import typer"` is a second floor: what any typer CLI pays before its
first line.

Usage: python benchmarks/cli_startup.py [--runs N] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import write_section

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ISOLOOP = str(BIN / "isoloop")


def commands(token_file: Path) -> list[tuple[str, list[str], int]]:
    """(label, argv, expected exit code); the first one is the baseline."""
    return [
        ("`python -c pass`", [sys.executable, "-c", "pass"], 0),
        ('`python -c "import typer"`', [sys.executable, "-c", "import typer"], 0),
        ("`isoloop --version`", [ISOLOOP, "--version"], 0),
        ("`isoloop --help`", [ISOLOOP, "--help"], 0),
        (
            "`isoloop validate configs/goog_sma.yaml`",
            [ISOLOOP, "validate", "configs/goog_sma.yaml"],
            0,
        ),
        (
            # A control action when no manager runs: start-up, then one refused connection.
            "`isoloop live status` (no manager running)",
            [
                ISOLOOP,
                "live",
                "status",
                "--url",
                "http://127.0.0.1:9",
                "--token-file",
                str(token_file),
            ],
            1,
        ),
    ]


def time_once(argv: list[str], expected: int) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != expected:
        raise SystemExit(
            f"{' '.join(argv)}: exit {proc.returncode}, expected {expected}\n"
            + proc.stderr.decode(errors="replace")
        )
    return elapsed


def measure(runs: int) -> list[tuple[str, list[float]]]:
    with tempfile.TemporaryDirectory() as tmp:
        token_file = Path(tmp) / "token"
        token_file.write_text("benchmark-token-not-used\n")
        cmds = commands(token_file)
        times: dict[str, list[float]] = {label: [] for label, _, _ in cmds}
        for _label, argv, expected in cmds:  # warm the OS file cache once, untimed
            time_once(argv, expected)
        for _ in range(runs):
            for label, argv, expected in cmds:
                times[label].append(time_once(argv, expected))
    return [(label, times[label]) for label, _, _ in cmds]


def render(results: list[tuple[str, list[float]]], runs: int) -> str:
    base = statistics.median(results[0][1])
    lines = [
        "## CLI start-up (`benchmarks/cli_startup.py`)",
        "",
        f"Wall time of a fresh process per command (the installed console script), {runs} runs "
        "each, commands interleaved round by round; ratio = median / median of "
        "`python -c pass`.",
        "",
        "| command | median ms | fastest ms | × `python -c pass` |",
        "|---|---:|---:|---:|",
    ]
    for label, samples in results:
        med = statistics.median(samples)
        lines.append(
            f"| {label} | {med * 1000:.0f} | {min(samples) * 1000:.0f} | {med / base:.1f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    results = measure(args.runs)
    body = render(results, args.runs)
    print(body)
    if not args.no_write:
        write_section("cli_startup", body)


if __name__ == "__main__":
    main()
