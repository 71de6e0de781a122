"""A finished sweep's folder: `out/<sweep_id>/` with trials.csv, summary.json, report.html."""

from __future__ import annotations

import json
from pathlib import Path

from isoloop.results.sweep_report import write_sweep_report
from isoloop.sweep.loading import LoadedSweep
from isoloop.sweep.result import SweepResult

__all__ = ["write_sweep_outputs"]


def write_sweep_outputs(result: SweepResult, loaded: LoadedSweep, out: Path) -> Path:
    """`out/<sweep_id>/`: trials.csv, summary.json and report.html; returns the report path."""
    folder = out / result.sweep_id
    folder.mkdir(parents=True, exist_ok=True)
    result.trials.to_csv(folder / "trials.csv", index=False)
    summary = result.to_json()
    if result.windows:
        summary["walk_forward"] = [w.__dict__ for w in result.windows]
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str))
    params = [f"param.{k}" for k in loaded.config.space if f"param.{k}" in result.trials.columns]
    best = None
    if result.best is not None:
        best = {"params": dict(result.best.params), "value": result.best.value}
    equity = result.best_equity if result.best_equity is not None else result.oos_equity
    return write_sweep_report(
        folder / "report.html",
        title=f"Sweep {result.sweep_id}",
        trials=result.trials,
        params=params,
        metric=loaded.config.objective.metric,
        best=best,
        best_equity=equity,
    )
