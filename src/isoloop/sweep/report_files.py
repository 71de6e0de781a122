"""Sweep reports rebuilt from stored results: a sweep folder or a sweep store.

A sweep folder (`results/<sweep_id>/`) holds trials.csv, summary.json and the
curve the report draws (best_equity.csv, or oos_equity.csv for walk-forward);
its report is a pure function of those files, so `isoloop sweep` and `isoloop
report SWEEP_DIR` write the same page. A store (the sweep's SQLite file) holds
the trials and the sweep's definition but no curve: its report,
`<store stem>.report.html` next to it, has every panel but the equity curve.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from isoloop.errors import ConfigError
from isoloop.results.sweep_report import write_sweep_report
from isoloop.sweep.objective import Objective, objective_values, pareto_front
from isoloop.sweep.store import SweepStore

__all__ = [
    "BEST_EQUITY",
    "OOS_EQUITY",
    "atomic_write",
    "render_folder_report",
    "report_for_path",
    "report_for_store",
]

BEST_EQUITY = "best_equity.csv"
OOS_EQUITY = "oos_equity.csv"

T = TypeVar("T")


def atomic_write(target: Path, write: Callable[[Path], T]) -> T:
    """`write(temp)` then rename the temp file over `target` (removed on failure)."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        value = write(temp)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return value


def _params(trials: pd.DataFrame) -> list[str]:
    return [str(c) for c in trials.columns if str(c).startswith("param.")]


def _objectives(raw: Any, where: Path) -> list[tuple[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(
            f"{where}: names no objectives (written by an older isoloop); rerun the sweep "
            "with the same store to refresh its folder"
        )
    return [(str(o["name"]), str(o.get("direction", "maximize"))) for o in raw]


def _read_curve(path: Path) -> pd.Series | None:
    if not path.is_file():
        return None
    frame = pd.read_csv(path, index_col=0, parse_dates=True)
    return frame.iloc[:, 0]


def render_folder_report(folder: Path, target: Path) -> Path:
    """Write the report of the sweep folder `folder` to `target` (from its files only)."""
    summary_path = folder / "summary.json"
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        trials = pd.read_csv(folder / "trials.csv")
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{folder}: incomplete sweep folder ({exc})") from None
    if not isinstance(summary, dict):
        raise ConfigError(f"{summary_path}: expected a JSON object")
    objectives = _objectives(summary.get("objectives"), summary_path)
    metric = objectives[0][0]
    windows = summary.get("walk_forward") or []
    best = summary.get("best")
    shown = None
    if isinstance(best, Mapping):
        value = (best.get("stats") or {}).get(metric)
        shown = {
            "params": best.get("params", {}),
            "value": math.nan if value is None else value,
        }
    curve = _read_curve(folder / (OOS_EQUITY if windows else BEST_EQUITY))
    return write_sweep_report(
        target,
        title=f"Sweep {summary.get('sweep_id', folder.name)}",
        trials=trials,
        params=_params(trials),
        metric=metric,
        best=shown,
        best_equity=curve,
        objectives=objectives,
        windows=windows,
        warnings=[str(w) for w in summary.get("warnings") or []],
    )


def _store_definition(path: Path) -> tuple[str, dict[str, Any]]:
    """The sweep key and definition of the store at `path`, read without writing to it."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            if not {"sweeps", "trials"} <= tables:
                raise ConfigError(
                    f"{path}: an SQLite file but not a sweep store (no sweeps/trials tables); "
                    "pass a sweep folder, a run folder or the `store` a sweep wrote"
                )
            row = db.execute("SELECT sweep_key, definition FROM sweeps").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError:
        raise ConfigError(
            f"{path}: not a run folder, a sweep folder or a sweep store (SQLite); pass the "
            "folder `isoloop backtest` or `isoloop sweep` wrote, or the sweep's `store` file"
        ) from None
    if row is None:
        raise ConfigError(f"{path}: the sweep store holds no sweep yet; run the sweep first")
    return str(row[0]), json.loads(row[1])


def _definition_objectives(definition: Mapping[str, Any]) -> list[Objective]:
    raw = definition.get("objectives") or [definition.get("objective") or {}]
    out = []
    for o in raw:
        function = o.get("function")
        name = o.get("metric") or o.get("name") or str(function).partition(":")[2]
        out.append(Objective(str(name), o.get("direction", "maximize"), function))
    return out


def report_for_store(path: Path) -> Path:
    """Write `<store stem>.report.html` next to the sweep store `path`; returns it."""
    key, definition = _store_definition(path)
    objectives = _definition_objectives(definition)
    with SweepStore(path) as store:
        trials = store.frame()
    for o in objectives:
        if o.function is not None and len(trials):
            trials[o.name] = [float(e.get(o.name, float("nan"))) for e in trials["stats_extra"]]
    values: dict[int, tuple[float, ...]] = {}
    names = list(dict.fromkeys(o.name for o in objectives))
    for trial_id, status, *cells in trials[["trial_id", "status", *names]].itertuples(index=False):
        got = objective_values(objectives, dict(zip(names, cells, strict=True)), str(status))
        if got is not None:
            values[int(trial_id)] = got
    front = set(pareto_front(values.items(), objectives))
    trials["pareto"] = [int(i) in front for i in trials["trial_id"]]
    best = None
    pool = [i for i in values if i in front] if len(objectives) > 1 else list(values)
    if pool:
        sign = objectives[0].sign()
        top = min(pool, key=lambda i: (-sign * values[i][0], i))
        params = trials.loc[trials["trial_id"] == top, "params"].iloc[0]
        best = {"params": dict(params), "value": values[top][0]}
    base = definition.get("base") or {}
    label = (
        base.get("name")
        or str((base.get("strategy") or {}).get("class", "")).rpartition(":")[2].lower()
    )
    target = path.with_name(f"{path.stem}.report.html")
    atomic_write(
        target,
        lambda temp: write_sweep_report(
            temp,
            title=f"Sweep {label}-sweep-{key[:12]} (from store {path.name})",
            trials=trials,
            params=_params(trials),
            metric=objectives[0].name,
            best=best,
            best_equity=None,
            objectives=[(o.name, o.direction) for o in objectives],
        ),
    )
    return target


def report_for_path(path: Path) -> Path:
    """`isoloop report PATH`: a run folder, a sweep folder or a sweep store; the report."""
    if path.is_dir():
        if (path / "summary.json").is_file() and (path / "trials.csv").is_file():
            target = path / "report.html"
            atomic_write(target, lambda temp: render_folder_report(path, temp))
            return target
        from isoloop.results.run_report import report_for_run_dir

        if (path / "manifest.json").is_file():
            return report_for_run_dir(path)
        raise ConfigError(
            f"{path}: not a run folder (no manifest.json) nor a sweep folder (no summary.json "
            "and trials.csv); pass the folder `isoloop backtest` or `isoloop sweep` wrote"
        )
    if path.is_file():
        return report_for_store(path)
    raise ConfigError(
        f"{path}: no such folder or file; pass a run folder, a sweep folder or a sweep store"
    )
