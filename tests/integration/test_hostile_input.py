"""Hostile input through the real CLI: one `error:` line, exit 2, nothing quoted, nothing written.

Each case is one family of the hostile-input review (caps, file contents in errors,
bad values that used to exit 1). Every input file carries a secret-looking line;
the error must name the file, key or row and the limit, never echo that line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from support.cli_run import one_error_line, run_isoloop

pytestmark = pytest.mark.timeout(300)

SECRET = "SECRET_TOKEN=sk-live-7f3a9c0d1e2b4a68"
STRATEGY = (
    "strategy: {class: 'isoloop.examples.sma_cross:SmaCross', params: {fast: 10, slow: 30}}\n"
)
BASE = f"# {SECRET}\n{STRATEGY}data: {{source: 'sample:GOOG'}}\n"
HEADER = "Date,Open,High,Low,Close,Volume\n"


def good_rows(n: int = 40) -> list[str]:
    return [f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00:00,10,11,9,10.5,100" for i in range(n)]


def write_csv(folder: Path, rows: list[str], header: str = HEADER) -> str:
    (folder / "bars.csv").write_text(header + "\n".join(rows) + "\n")
    return f"{STRATEGY}data: {{source: 'csv:bars.csv'}}\n"


# Each case writes its inputs into the folder and returns the CLI arguments (the
# output folder is always `out/`) and an expected fragment of the error line.
Case = Callable[[Path], tuple[list[str], str]]


def _deep_yaml(d: Path) -> tuple[list[str], str]:
    # libyaml's composer recursed in C on this and the CLI died with SIGSEGV (exit 139).
    (d / "run.yaml").write_text(BASE + "venue: " + "[" * 100_000 + "\n")
    return ["backtest", "run.yaml"], "ISOLOOP_MAX_YAML_DEPTH"


def _big_yaml(d: Path) -> tuple[list[str], str]:
    (d / "run.yaml").write_text(BASE + ("# padding " + "x" * 90 + "\n") * 12_000)
    return ["validate", "run.yaml"], "ISOLOOP_MAX_YAML_BYTES"


def _yaml_aliases(d: Path) -> tuple[list[str], str]:
    # "Billion laughs": nine levels of ten aliases each expand to 10⁹ values.
    text = BASE + "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    (d / "run.yaml").write_text(text)
    return ["backtest", "run.yaml"], "ISOLOOP_MAX_YAML_NODES"


def _duplicate_key(d: Path) -> tuple[list[str], str]:
    (d / "run.yaml").write_text(BASE + "venue: {cash: 10000}\nvenue: {cash: 99}\n")
    return ["backtest", "run.yaml"], "key 'venue' is given twice"


def _long_int_yaml(d: Path) -> tuple[list[str], str]:
    (d / "run.yaml").write_text(BASE + "seed: " + "9" * 5000 + "\n")
    return ["backtest", "run.yaml"], "ISOLOOP_MAX_INT_DIGITS"


def _long_int_set(d: Path) -> tuple[list[str], str]:
    (d / "run.yaml").write_text(BASE)
    return ["backtest", "run.yaml", "--set", "seed=" + "9" * 5000], "ISOLOOP_MAX_INT_DIGITS"


def _long_value_set(d: Path) -> tuple[list[str], str]:
    (d / "run.yaml").write_text(BASE)
    return ["backtest", "run.yaml", "--set", "name=" + "x" * 100_000], "ISOLOOP_MAX_STRING_CHARS"


def _long_name_yaml(d: Path) -> tuple[list[str], str]:
    (d / "run.yaml").write_text(BASE + "name: " + "n" * 5000 + "\n")
    return ["backtest", "run.yaml"], "name"


def _infinite_cash(d: Path) -> tuple[list[str], str]:
    (d / "run.yaml").write_text(BASE)
    return ["backtest", "run.yaml", "--set", "venue.cash=.inf"], "venue.cash"


def _huge_range(d: Path) -> tuple[list[str], str]:
    (d / "run.yaml").write_text(BASE)
    (d / "sweep.yaml").write_text(
        f"# {SECRET}\nkind: sweep\nbase: run.yaml\n"
        "space: {fast: {range: [1, 1000000000000, 1]}}\n"
        "objective: {metric: sharpe_ratio}\nexecutor: {kind: serial}\n"
    )
    return ["sweep", "sweep.yaml", "--out", "out"], "ISOLOOP_MAX_GRID_POINTS"


def _huge_grid_with_constraint(d: Path) -> tuple[list[str], str]:
    # 10⁶ × 10⁶ points: `validate` used to evaluate the constraint at every one (a hang).
    (d / "run.yaml").write_text(BASE)
    (d / "sweep.yaml").write_text(
        "kind: sweep\nbase: run.yaml\n"
        "space: {fast: {range: [1, 1000001, 1]}, slow: {range: [1, 1000001, 1]}}\n"
        "constraint: fast < slow\nobjective: {metric: sharpe_ratio}\n"
    )
    return ["validate", "sweep.yaml"], "ISOLOOP_MAX_GRID_POINTS"


def _synthetic_bars(d: Path) -> tuple[list[str], str]:
    (d / "run.yaml").write_text(
        f"# {SECRET}\n{STRATEGY}data: {{source: 'synthetic:gbm?bars=1000000000000&seed=1'}}\n"
    )
    return ["backtest", "run.yaml"], "ISOLOOP_MAX_BARS"


def _csv_long_line(d: Path) -> tuple[list[str], str]:
    # One 300 kB line: pandas used to read it whole (GBs for a 1 GB line) before any check.
    (d / "run.yaml").write_text(write_csv(d, [*good_rows(5), SECRET * 8000]))
    return ["backtest", "run.yaml"], "ISOLOOP_MAX_CSV_LINE_BYTES"


def _csv_file_size(d: Path) -> tuple[list[str], str]:
    (d / "run.yaml").write_text(write_csv(d, [SECRET, *good_rows(400)]))
    return [
        "backtest",
        "run.yaml",
        "--env",
        "ISOLOOP_MAX_DATA_BYTES=4096",
    ], "ISOLOOP_MAX_DATA_BYTES"


def _secret_as_timestamp(d: Path) -> tuple[list[str], str]:
    # `csv:/etc/shadow` quoted a line of the file; pandas also printed a warning line.
    (d / "run.yaml").write_text(write_csv(d, [f"{SECRET},1,2,0.5,1.5,10", *good_rows()]))
    return ["backtest", "run.yaml"], "line 2: the timestamp is not a date/time"


def _secret_as_value(d: Path) -> tuple[list[str], str]:
    rows = good_rows()
    rows[3] = rows[3].replace(",10.5,", f",{SECRET},")
    (d / "run.yaml").write_text(write_csv(d, rows))
    return ["backtest", "run.yaml"], "line 5"


def _secret_as_header(d: Path) -> tuple[list[str], str]:
    (d / "run.yaml").write_text(write_csv(d, ["2024-01-01,1"], header=f"Date,{SECRET}\n"))
    return ["backtest", "run.yaml"], "missing column(s) Open, High, Low, Close, Volume"


def _secret_ragged_rows(d: Path) -> tuple[list[str], str]:
    (d / "run.yaml").write_text(write_csv(d, [*good_rows(10), f"{SECRET},a,b,c,d,e,f,g"]))
    return ["backtest", "run.yaml"], "line 12"


def _secret_yaml_as_base(d: Path) -> tuple[list[str], str]:
    # A sweep's `base:` (or any config path) may name any file: its values are not echoed.
    (d / "secret.yaml").write_text(f"strategy: {SECRET}\ndata: {{source: {SECRET}}}\n")
    (d / "sweep.yaml").write_text(
        "kind: sweep\nbase: secret.yaml\nspace: {fast: [5, 10]}\n"
        "objective: {metric: sharpe_ratio}\nexecutor: {kind: serial}\n"
    )
    return ["sweep", "sweep.yaml", "--out", "out"], "secret.yaml: strategy"


def _mixed_timezones(d: Path) -> tuple[list[str], str]:
    rows = good_rows()
    rows = [r.replace(":00:00,", ":00:00+00:00,", 1) if i < 20 else r for i, r in enumerate(rows)]
    (d / "run.yaml").write_text(write_csv(d, rows))
    return ["backtest", "run.yaml"], "line 22: the timestamp has no UTC offset"


def _negative_price(d: Path) -> tuple[list[str], str]:
    rows = good_rows()
    rows[7] = rows[7].replace(",10,11,9,10.5,", ",-10,11,-12,10.5,")
    (d / "run.yaml").write_text(write_csv(d, rows))
    return ["backtest", "run.yaml"], "line 9"


def _overflowing_price(d: Path) -> tuple[list[str], str]:
    rows = good_rows()
    rows[7] = rows[7].replace(",10,11,9,10.5,", ",1e300,1e300,1e300,1e300,")
    (d / "run.yaml").write_text(write_csv(d, rows))
    return ["backtest", "run.yaml"], "must be at most"


CASES: dict[str, Case] = {
    "yaml_depth": _deep_yaml,
    "yaml_size": _big_yaml,
    "yaml_aliases": _yaml_aliases,
    "yaml_duplicate_key": _duplicate_key,
    "int_digits_yaml": _long_int_yaml,
    "int_digits_set": _long_int_set,
    "long_value_set": _long_value_set,
    "long_name_yaml": _long_name_yaml,
    "infinite_cash": _infinite_cash,
    "grid_range": _huge_range,
    "grid_with_constraint": _huge_grid_with_constraint,
    "bars_per_source": _synthetic_bars,
    "csv_line_length": _csv_long_line,
    "csv_file_size": _csv_file_size,
    "contents_timestamp": _secret_as_timestamp,
    "contents_value": _secret_as_value,
    "contents_header": _secret_as_header,
    "contents_ragged": _secret_ragged_rows,
    "contents_yaml_base": _secret_yaml_as_base,
    "mixed_timezones": _mixed_timezones,
    "negative_price": _negative_price,
    "overflowing_price": _overflowing_price,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input_is_one_error_line_exit_2_nothing_quoted_nothing_written(
    case: str, tmp_path: Path
) -> None:
    args, expected = CASES[case](tmp_path)
    env: dict[str, str] = {}
    if "--env" in args:  # a lowered cap, so the test needs no gigabyte file
        at = args.index("--env")
        key, _, value = args[at + 1].partition("=")
        env[key] = value
        del args[at : at + 2]
    if args[0] == "backtest":
        args += ["--out", "out"]
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run_isoloop(*args, cwd=tmp_path, env=env)
    line = one_error_line(done)
    assert expected in line, line
    assert SECRET not in done.stdout + done.stderr
    assert "sk-live" not in line
    assert len(line) < 600, line  # a 100k-character value is never echoed whole
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no out/, no store


def test_the_limit_named_in_the_error_can_be_raised(tmp_path: Path) -> None:
    """The variable the error names is the one that lets the same input through."""
    (tmp_path / "run.yaml").write_text(
        f"{STRATEGY}data: {{source: 'synthetic:gbm?bars=600&seed=1'}}\n"
    )
    low = run_isoloop("validate", "run.yaml", cwd=tmp_path, env={"ISOLOOP_MAX_BARS": "500"})
    assert "ISOLOOP_MAX_BARS" in one_error_line(low)
    raised = run_isoloop("validate", "run.yaml", cwd=tmp_path, env={"ISOLOOP_MAX_BARS": "600"})
    assert raised.returncode == 0, raised.stderr
    assert "600 bars" in raised.stdout


def test_json_output_is_strict_json_when_stats_are_undefined(tmp_path: Path) -> None:
    """No trades: several stats are NaN, printed as null, never as a bare `NaN`."""
    (tmp_path / "run.yaml").write_text(
        f"{STRATEGY}data: {{source: 'synthetic:gbm?bars=25&seed=1'}}\n"
    )
    done = run_isoloop(
        "backtest", "run.yaml", "--out", "out", "--json", "--no-report", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr

    def refuse(token: str) -> None:
        raise AssertionError(f"bare {token} in --json output")

    payload = json.loads(done.stdout, parse_constant=refuse)
    assert payload["stats"]["trades"] == 0
    assert payload["stats"]["sharpe_ratio"] is None
