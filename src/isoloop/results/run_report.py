"""The HTML report of a run directory (what `isoloop report RUN_DIR` writes).

A backtest writes its report into the staging folder before the folder gets its
final name, and the manifest records the report's SHA-256 with the other files.
The report is a pure function of the run's files and data, so writing it again
gives the same bytes; a report that already matches the manifest is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from isoloop.config import RunConfig
from isoloop.data import load_frame
from isoloop.errors import ConfigError
from isoloop.results.digest import file_sha256
from isoloop.results.report import write_report
from isoloop.results.rundir import REPORT, read_indicators, read_manifest

__all__ = ["report_for_run_dir"]


def _recorded_report_matches(path: Path, manifest: Mapping[str, Any]) -> bool:
    files = manifest.get("files")
    recorded = files.get(REPORT) if isinstance(files, Mapping) else None
    if not isinstance(recorded, Mapping) or not path.is_file() or path.is_symlink():
        return False
    return file_sha256(path)[0] == recorded.get("sha256")


def report_for_run_dir(run_dir: Path, manifest: Mapping[str, Any] | None = None) -> Path:
    """Write `run_dir/report.html` from the run's files and its data; returns the path.

    `manifest` is given while the run folder is still being staged (its manifest is
    written last); otherwise it is read from the folder.
    """
    if manifest is None:
        manifest = read_manifest(run_dir)
    path = run_dir / REPORT
    if _recorded_report_matches(path, manifest):
        return path
    try:
        cfg = RunConfig.model_validate(manifest["config"], strict=False)
        equity = pd.read_parquet(run_dir / "equity.parquet")
        trades = pd.read_parquet(run_dir / "trades.parquet")
    except (KeyError, OSError, ValueError) as exc:
        raise ConfigError(f"{run_dir}: incomplete run directory ({exc})") from None
    _, ohlc = load_frame(
        cfg.data.source, symbol=cfg.data.symbol, start=cfg.data.start, end=cfg.data.end
    )
    title = f"{manifest.get('run_id', run_dir.name)} — {cfg.strategy.class_path}"
    return write_report(
        path,
        title=title,
        index=equity.index.to_numpy(),
        equity=equity["equity"].to_numpy(),
        trades=trades,
        ohlc=ohlc,
        stats=manifest.get("stats", {}),
        indicators=read_indicators(run_dir),
    )
