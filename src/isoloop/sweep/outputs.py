"""A finished sweep's folder: `out/<sweep_id>/` with trials.csv, summary.json, report.html
and the curve the report draws (best_equity.csv, or oos_equity.csv for walk-forward).

The sweep id is checked to be a safe folder name and the folder to resolve inside
`out` before anything is written; each file is written to a temporary sibling and
renamed over the old one, so a resumed sweep never leaves a half-written file.

A folder belongs to the store its outputs were made from (`summary.json`'s
`store`; `null` for a sweep kept in memory): a sweep of the same definition run
with another store is refused (`OutputConflict`) instead of overwriting them.
"""

from __future__ import annotations

import json
from pathlib import Path

from isoloop.errors import OutputConflict
from isoloop.results.rundir import check_name, inside
from isoloop.sweep.loading import LoadedSweep
from isoloop.sweep.report_files import BEST_EQUITY, OOS_EQUITY, atomic_write, render_folder_report
from isoloop.sweep.result import SweepResult
from isoloop.sweep.trial import sweep_mode

__all__ = ["check_outputs_owner", "write_sweep_outputs"]

_atomic = atomic_write


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
    """`out/<sweep_id>/`: trials.csv, summary.json, the report's curve and report.html
    (rebuilt from those files, as `isoloop report` does); returns the report path.

    Raises `OutputConflict` (nothing written) when the folder holds the outputs of the
    same sweep run with another store.
    """
    folder = inside(out, check_name(result.sweep_id, "sweep id (from the base config's name)"))
    check_outputs_owner(folder, result.store)
    folder.mkdir(parents=True, exist_ok=True)
    _atomic(folder / "trials.csv", lambda p: result.trials.to_csv(p, index=False))
    summary = result.to_json()
    summary["mode"] = sweep_mode(loaded.config.search.method).value  # never hashed
    if result.windows:
        summary["walk_forward"] = [w.__dict__ for w in result.windows]
    text = json.dumps(summary, indent=2, sort_keys=True, default=str)
    _atomic(folder / "summary.json", lambda p: p.write_text(text, encoding="utf-8"))
    curve_name = OOS_EQUITY if result.windows else BEST_EQUITY
    curve = result.oos_equity if result.windows else result.best_equity
    if curve is not None and len(curve):
        frame = curve.rename("equity").to_frame()
        frame.index.name = "time"
        _atomic(folder / curve_name, frame.to_csv)
    report = folder / "report.html"
    _atomic(report, lambda p: render_folder_report(folder, p))
    return report
