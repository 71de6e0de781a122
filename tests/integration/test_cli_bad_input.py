"""Bad input: one `error:` line naming the problem, exit 2, no traceback, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from backtesting.test import GOOG

from isoloop.cli import main

STRATEGY = (
    "strategy: {class: 'isoloop.examples.sma_cross:SmaCross', params: {fast: 10, slow: 30}}\n"
)


def csv_with(tmp_path: Path, mutate: str) -> str:
    """A small GOOG CSV with one defect; returns the data line for the config."""
    frame = GOOG.iloc[:200].copy()
    if mutate == "missing_columns":
        frame = frame.drop(columns=["Volume", "Low"])
    elif mutate == "unsorted":
        frame = frame.iloc[[*range(50), 60, *range(50, 60), *range(61, 200)]]
    elif mutate == "duplicate":
        frame = frame.iloc[[*range(80), 79, *range(80, 200)]]
    elif mutate == "nan_price":
        frame.iloc[42, frame.columns.get_loc("Close")] = np.nan
    elif mutate == "high_below_low":
        frame.iloc[17, frame.columns.get_loc("High")] = frame.iloc[17]["Low"] - 1
    elif mutate == "negative_volume":
        frame.iloc[5, frame.columns.get_loc("Volume")] = -100
    elif mutate == "empty":
        frame = frame.iloc[:0]
    path = tmp_path / "bars.csv"
    frame.to_csv(path)
    return "data: {source: 'csv:bars.csv', symbol: GOOG}\n"


SAMPLE = "data: {source: 'sample:GOOG'}\n"
CASES: dict[str, tuple[str | None, str]] = {
    # name: (config text, or None for a missing file; expected fragment of the error)
    "missing_file": (None, "file not found"),
    "yaml_syntax": (STRATEGY + SAMPLE + "venue: {cash: 10000\n", "invalid YAML"),
    "unknown_key": (
        STRATEGY + SAMPLE + "venue: {cash: 10000, cahs: 5}\n",
        "unknown key 'venue.cahs'",
    ),
    "wrong_type": (STRATEGY + SAMPLE + "venue: {cash: lots}\n", "venue.cash"),
    "unknown_strategy": (
        "strategy: {class: 'isoloop.examples.sma_cross:NoSuchStrategy'}\n" + SAMPLE,
        "strategy.class",
    ),
    "unknown_source": (STRATEGY + "data: {source: 'ftp:GOOG'}\n", "ftp"),
    "missing_columns": (STRATEGY + "@missing_columns", "Low"),
    "unsorted": (STRATEGY + "@unsorted", "sorted"),
    "duplicate": (STRATEGY + "@duplicate", "duplicate"),
    "nan_price": (STRATEGY + "@nan_price", "NaN"),
    "high_below_low": (STRATEGY + "@high_below_low", "high"),
    "negative_volume": (STRATEGY + "@negative_volume", "volume"),
    "empty": (STRATEGY + "@empty", "empty"),
    "fast_not_below_slow": (
        "strategy: {class: 'isoloop.examples.sma_cross:SmaCross', params: {fast: 30, slow: 10}}\n"
        + SAMPLE,
        "fast",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_with_one_error_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = CASES[case]
    config = tmp_path / "run.yaml"
    if text is not None:
        if "@" in text:
            head, _, defect = text.partition("@")
            text = head + csv_with(tmp_path, defect)
        config.write_text(text)
    out_dir = tmp_path / "results"
    code = main(["backtest", str(config), "--out", str(out_dir)])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert expected.lower() in lines[0].lower(), lines[0]
    assert "Traceback" not in err + out
    if text is not None and case != "unknown_source":
        # Errors from the file or its data name the file they come from.
        assert "run.yaml" in lines[0] or "bars.csv" in lines[0], lines[0]
    leftovers = list(out_dir.iterdir()) if out_dir.exists() else []
    assert leftovers == [], leftovers


def test_validate_reports_the_same_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(STRATEGY.replace("fast: 10", "fast: 40") + SAMPLE)
    assert main(["validate", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "fast" in err


def test_a_failing_run_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(
        "strategy: {class: 'support.isoloop_test_strategies:RaisesOnBar', params: {bar: 50}}\n"
        + SAMPLE
    )
    code = main(["backtest", str(config), "--out", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ") and "run failed" in err
    assert "Traceback" not in err
    # The failed run keeps its evidence: one published folder, named on the error line.
    (folder,) = (tmp_path / "results").iterdir()
    assert f"(failed run folder: {folder})" in err
    assert json.loads((folder / "manifest.json").read_text())["status"] == "failed"
