"""A finished sweep's folder: `out/<sweep_id>/` with trials.csv, summary.json, report.html.

The sweep id is checked to be a safe folder name and the folder to resolve inside
`out` before anything is written; each file is written to a temporary sibling and
renamed over the old one, so a resumed sweep never leaves a half-written file.

A folder belongs to the store its outputs were made from (`summary.json`'s
`store`; `null` for a sweep kept in memory): a sweep of the same definition run
with another store is refused (`OutputConflict`) instead of overwriting them.
"""

from __future__ import annotations

import html
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from isoloop.errors import OutputConflict
from isoloop.results.rundir import check_name, inside
from isoloop.results.sweep_report import write_sweep_report
from isoloop.sweep.loading import LoadedSweep
from isoloop.sweep.result import SweepResult

__all__ = ["check_outputs_owner", "write_sweep_outputs"]

T = TypeVar("T")


def _atomic(target: Path, write: Callable[[Path], T]) -> T:
    """`write(temp)` then rename the temp file over `target` (removed on failure)."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        value = write(temp)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return value


def _store_label(store: str | None) -> str:
    return "no store (in memory)" if store is None else f"store {store}"


def check_outputs_owner(folder: Path, store: Path | None) -> None:
    """Refuse `folder` when its outputs were written from a store other than `store`."""
    summary = folder / "summary.json"
    if not summary.is_file():
        return
    try:
        previous = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = None
    if not isinstance(previous, dict) or "store" not in previous:
        return  # written before outputs named their store: nothing to compare with
    theirs = previous["store"]
    ours = None if store is None else str(store)
    if theirs != ours:
        raise OutputConflict(
            f"{folder}: holds the outputs of this sweep run with {_store_label(theirs)}; "
            f"this run used {_store_label(ours)} and would overwrite them; pass --out "
            "ANOTHER_FOLDER (the trials are kept in the store: rerunning resumes them) or "
            "delete the folder"
        )


def write_sweep_outputs(result: SweepResult, loaded: LoadedSweep, out: Path) -> Path:
    """`out/<sweep_id>/`: trials.csv, summary.json and report.html; returns the report path.

    Raises `OutputConflict` (nothing written) when the folder holds the outputs of the
    same sweep run with another store.
    """
    folder = inside(out, check_name(result.sweep_id, "sweep id (from the base config's name)"))
    check_outputs_owner(folder, result.store)
    folder.mkdir(parents=True, exist_ok=True)
    _atomic(folder / "trials.csv", lambda p: result.trials.to_csv(p, index=False))
    summary = result.to_json()
    if result.windows:
        summary["walk_forward"] = [w.__dict__ for w in result.windows]
    text = json.dumps(summary, indent=2, sort_keys=True, default=str)
    _atomic(folder / "summary.json", lambda p: p.write_text(text, encoding="utf-8"))
    params = [f"param.{k}" for k in loaded.config.space if f"param.{k}" in result.trials.columns]
    best = None
    if result.best is not None:
        best = {"params": dict(result.best.params), "value": result.best.value}
    equity = result.best_equity if result.best_equity is not None else result.oos_equity
    report = folder / "report.html"

    def write(path: Path) -> None:
        write_sweep_report(
            path,
            title=f"Sweep {result.sweep_id}",
            trials=result.trials,
            params=params,
            metric=loaded.config.objective_list()[0].name,
            best=best,
            best_equity=equity,
        )
        if len(result.objectives) > 1:
            _add_pareto_table(path, result)

    _atomic(report, write)
    return report


def _add_pareto_table(path: Path, result: SweepResult) -> None:
    """The Pareto front (id, parameters, objective values) above the report's trials table."""
    names = [o.name for o in result.objectives]
    keys = list(dict.fromkeys(k for p in result.pareto_trials for k in p.params))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["trial_id", *keys, *names])
    rows = "".join(
        "<tr>"
        + f"<td>{p.trial_id}</td>"
        + "".join(f"<td>{html.escape(str(p.params.get(k, '')))}</td>" for k in keys)
        + "".join(f"<td>{p.values[n]:.4g}</td>" for n in names)
        + "</tr>"
        for p in result.pareto_trials
    )
    directions = ", ".join(f"{html.escape(o.name)} ({o.direction})" for o in result.objectives)
    section = (
        f"<h2>Pareto front</h2><p>{len(result.pareto_trials)} trials that no other trial "
        f"beats on every objective: {directions}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>\n"
    )
    page = path.read_text(encoding="utf-8")
    marker = "<h2>Trials</h2>"
    page = page.replace(marker, section + marker, 1) if marker in page else page + section
    path.write_text(page, encoding="utf-8")
