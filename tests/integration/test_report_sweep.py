"""Sweep and walk-forward reports: rebuilt by `isoloop report` from a sweep folder or
a store, numbers a user reads off the page, and counts that agree with each other."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from isoloop.cli import main
from isoloop.results.sweep_report_analysis import (
    history_keep,
    neighbourhood_means,
    param_importances,
)

BASE: dict[str, Any] = {
    "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {}},
    "data": {"source": "sample:GOOG"},
    "venue": {"cash": 10_000, "commission": 0.002},
}
SWEEP: dict[str, Any] = {
    "kind": "sweep",
    "base": BASE,
    "space": {"fast": [5, 10, 20], "slow": [30, 60]},
    "objective": {"metric": "sharpe_ratio", "direction": "maximize"},
    "executor": {"kind": "serial"},
}


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def sweep_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str], cfg: dict[str, Any]) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(json.dumps(cfg))
    store = tmp_path / "s.sqlite"
    code, out, err = run_cli(
        ["sweep", str(path), "--json", "--out", str(tmp_path / "out"), "--store", str(store)],
        capsys,
    )
    assert code == 0, err
    return tmp_path / "out" / json.loads(out)["sweep_id"]


def test_importance_is_the_share_of_variance_each_parameter_explains() -> None:
    # y depends on a only (b is noise-free and irrelevant): a explains all of it.
    a, b = np.meshgrid([1, 2, 3, 4], [10, 20, 30], indexing="ij")
    frame = pd.DataFrame({"param.a": a.ravel(), "param.b": b.ravel()})
    y = (frame["param.a"] ** 2).to_numpy(dtype=float)
    assert param_importances(frame, ["param.a", "param.b"], y) == {"param.a": 1.0, "param.b": 0.0}
    # y = a + 2b on a balanced grid: variances 1.25 (a over 1..4) and 4 * 66.67 (2b).
    y2 = (frame["param.a"] + 2 * frame["param.b"]).to_numpy(dtype=float)
    shares = param_importances(frame, ["param.a", "param.b"], y2)
    var_a, var_b = np.var([1, 2, 3, 4]), np.var([20, 40, 60])
    assert shares["param.a"] == pytest.approx(var_a / (var_a + var_b))
    assert shares["param.b"] == pytest.approx(var_b / (var_a + var_b))


def test_neighbourhood_mean_tells_a_plateau_from_a_lone_spike() -> None:
    a, b = np.meshgrid(range(7), range(7), indexing="ij")
    frame = pd.DataFrame({"param.a": a.ravel(), "param.b": b.ravel()})
    y = np.zeros(49)
    y[(frame["param.a"] == 1) & (frame["param.b"] == 5)] = 10.0  # lone spike
    y[frame["param.a"].isin([4, 5, 6]) & frame["param.b"].isin([0, 1, 2])] = 8.0  # plateau
    means, counts = neighbourhood_means(frame, ["param.a", "param.b"], y)
    spike = int(np.flatnonzero((a.ravel() == 1) & (b.ravel() == 5))[0])
    centre = int(np.flatnonzero((a.ravel() == 5) & (b.ravel() == 1))[0])
    corner = int(np.flatnonzero((a.ravel() == 0) & (b.ravel() == 0))[0])
    assert (counts[spike], counts[centre], counts[corner]) == (9, 9, 4)
    assert means[spike] == pytest.approx(10 / 9)
    assert means[centre] == pytest.approx(8.0)
    # The spike has the highest own value; every plateau trial has a higher neighbourhood.
    assert int(np.argmax(y)) == spike
    assert means[centre] == means.max() and means[spike] < means[y == 8.0].min()


def test_long_history_keeps_every_new_best_within_the_limit() -> None:
    rng = np.random.default_rng(np.random.SeedSequence(3))
    values = rng.standard_normal(10_000)
    keep = history_keep(values, "maximize", limit=500)
    records = [i for i in range(len(values)) if values[i] > values[:i].max(initial=-np.inf)]
    assert set(records) <= set(keep.tolist())
    assert len(keep) <= 500 + len(records) and keep[0] == 0 and keep[-1] == len(values) - 1


def test_report_rebuilds_the_sweep_folder_report_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = sweep_folder(tmp_path, capsys, SWEEP)
    written = (folder / "report.html").read_bytes()
    (folder / "report.html").unlink()
    code, out, err = run_cli(["report", str(folder)], capsys)
    assert code == 0, err
    assert out.strip() == str(folder / "report.html")
    assert (folder / "report.html").read_bytes() == written
    text = written.decode()
    for section in ("history", "importances", "parallel", "heatmap", "distribution"):
        assert f'id="{section}"' in text
    assert 'id="robustness"' in text and 'id="trials-data"' in text
    assert not re.search(r"<script[^>]+src=", text)  # plotly.js inlined, no CDN
    # The best trial shown is the trials table's argmax.
    trials = pd.read_csv(folder / "trials.csv")
    top = trials.sort_values(["sharpe_ratio", "trial_id"], ascending=[False, True]).iloc[0]
    assert f"fast={top['param.fast']}, slow={top['param.slow']}" in text
    assert f"sharpe_ratio = {top['sharpe_ratio']:.4g}" in text


def test_report_of_a_store_writes_next_to_it_and_leaves_it_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = sweep_folder(tmp_path, capsys, SWEEP)
    store = tmp_path / "s.sqlite"
    before = store.read_bytes()
    code, out, err = run_cli(["report", str(store)], capsys)
    assert code == 0, err
    page = tmp_path / "s.report.html"
    assert out.strip() == str(page)
    assert store.read_bytes() == before
    text = page.read_text()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["sweep_id"] in text and "6 trials (ok: 6)" in text
    best = summary["best"]["params"]
    assert f"fast={best['fast']}, slow={best['slow']}" in text


@pytest.mark.parametrize("kind", ["missing", "empty dir", "text file", "sqlite, not a store"])
def test_report_of_something_else_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    target = tmp_path / "thing"
    if kind == "empty dir":
        target.mkdir()
    elif kind == "text file":
        target.write_text("hello\n")
    elif kind == "sqlite, not a store":
        with sqlite3.connect(target) as db:
            db.execute("CREATE TABLE t (x INTEGER)")
        db.close()
    before = target.read_bytes() if target.is_file() else None
    code, out, err = run_cli(["report", str(target)], capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert str(target) in err and "Traceback" not in err
    if before is not None:
        assert target.read_bytes() == before  # nothing written into a foreign file


def test_walk_forward_report_counts_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = {**SWEEP, "walk_forward": {"mode": "rolling", "train_bars": 600, "test_bars": 300}}
    folder = sweep_folder(tmp_path, capsys, cfg)
    text = (folder / "report.html").read_text()
    assert "No successful trial" not in text
    assert "30 trials (ok: 30)" in text and "30 ok train trials" in text
    rows = re.findall(r"<tr><td>(\d+)</td><td>[^<]*</td><td>[^<]*</td><td>(\d+)</td>", text)
    assert [(int(w), int(ok)) for w, ok in rows] == [(k, 6) for k in range(5)]
    oos = pd.read_csv(folder / "oos_equity.csv", index_col=0, parse_dates=True)["equity"]
    summary = json.loads((folder / "summary.json").read_text())
    # The stitched curve ends at the product of the windows' test growth.
    growth = np.prod([w["test_stats"]["equity_final"] / 10_000 for w in summary["walk_forward"]])
    assert float(oos.iloc[-1]) == pytest.approx(10_000 * growth, rel=1e-9)
    assert 'id="oos-equity"' in text and 'id="train-test"' in text
    (folder / "report.html").unlink()
    code, _, err = run_cli(["report", str(folder)], capsys)
    assert code == 0, err
    assert (folder / "report.html").read_text() == text
