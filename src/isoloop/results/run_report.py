"""The HTML report of a run directory (what `isoloop report RUN_DIR` writes)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from isoloop.config import RunConfig
from isoloop.data import load_frame
from isoloop.errors import ConfigError
from isoloop.results.report import write_report
from isoloop.results.rundir import read_manifest

__all__ = ["report_for_run_dir"]


def report_for_run_dir(run_dir: Path) -> Path:
    """Write `run_dir/report.html` from the run's files and its data; returns the path."""
    manifest = read_manifest(run_dir)
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
        run_dir / "report.html",
        title=title,
        index=equity.index.to_numpy(),
        equity=equity["equity"].to_numpy(),
        trades=trades,
        ohlc=ohlc,
        stats=manifest.get("stats", {}),
    )
