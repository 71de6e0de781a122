"""The HTML report of a run directory (what `isoloop report RUN_DIR` writes).

A backtest writes its report into the staging folder before the folder gets its
final name, and the manifest records the report's SHA-256 with the other files.
The report is a pure function of the run's files and data, so writing it again
gives the same bytes; a report that already matches the manifest is left alone.

A failed run (manifest `status: failed`) keeps what it got to write: its report
shows the error, the events logged so far, and the charts and tables of the
files that exist; a missing file leaves its panels out instead of failing.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from isoloop.config import DataConfig, RunConfig
from isoloop.data import load_frame
from isoloop.errors import ConfigError, IsoloopError
from isoloop.results.digest import file_sha256
from isoloop.results.report import (
    PriceSeries,
    RunFacts,
    write_failed_report,
    write_report,
)
from isoloop.results.rundir import REPORT, VALUE_PREFIX, read_indicators, read_manifest

__all__ = ["EVENTS_SHOWN", "report_for_run_dir"]

#: A failed run's report lists this many of its last events.
EVENTS_SHOWN = 200


def _recorded_report_matches(path: Path, manifest: Mapping[str, Any]) -> bool:
    files = manifest.get("files")
    recorded = files.get(REPORT) if isinstance(files, Mapping) else None
    if not isinstance(recorded, Mapping) or not path.is_file() or path.is_symlink():
        return False
    return file_sha256(path)[0] == recorded.get("sha256")


def _events(run_dir: Path) -> tuple[list[dict[str, Any]], int]:
    """The last `EVENTS_SHOWN` events of `events.jsonl` and how many it holds."""
    path = run_dir / "events.jsonl"
    if not path.is_file():
        return [], 0
    total = 0
    last: deque[dict[str, Any]] = deque(maxlen=EVENTS_SHOWN)
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            total += 1
            try:
                record = json.loads(line)
            except ValueError:
                record = {"event": "(unreadable line)"}  # a writer killed mid-line
            last.append(record if isinstance(record, dict) else {"event": str(record)})
    return list(last), total


def _prices(cfg: RunConfig) -> list[PriceSeries]:
    """Each symbol's bars: the primary instrument, then the others in config order."""
    sources: list[DataConfig] = [cfg.data, *cfg.instruments]
    prices = []
    for data in sources:
        symbol, frame = load_frame(data.source, symbol=data.symbol, start=data.start, end=data.end)
        prices.append(PriceSeries(symbol, frame))
    if len(prices) == 1:
        # One symbol: every trade is drawn on it.
        return [PriceSeries(None, prices[0].ohlc)]
    return prices


def _position_values(equity: pd.DataFrame) -> dict[str, Any]:
    """A portfolio's `value:<symbol>` columns, by symbol."""
    return {
        str(c)[len(VALUE_PREFIX) :]: equity[c].to_numpy(dtype="float64")
        for c in equity.columns
        if str(c).startswith(VALUE_PREFIX)
    }


def _facts(manifest: Mapping[str, Any], cfg: RunConfig | None, run_dir: Path) -> RunFacts:
    failed = manifest.get("status") == "failed"
    error = manifest.get("error") if failed else None
    events, total = _events(run_dir) if failed else ([], 0)
    data = manifest.get("data")
    return RunFacts(
        strategy=cfg.strategy.class_path if cfg is not None else None,
        params=cfg.strategy.params if cfg is not None else None,
        data=data if isinstance(data, Mapping) else None,
        error=(error if isinstance(error, Mapping) else {"message": str(error)})
        if failed
        else None,
        events=events,
        events_total=total,
    )


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
    failed = manifest.get("status") == "failed"
    try:
        cfg: RunConfig | None = RunConfig.model_validate(manifest["config"], strict=False)
    except (KeyError, ValueError) as exc:
        if not failed:
            raise ConfigError(f"{run_dir}: incomplete run directory ({exc})") from None
        cfg = None  # a run can fail on its config: the report still shows the error
    run_id = manifest.get("run_id", run_dir.name)
    title = f"{run_id} — {cfg.strategy.class_path if cfg else 'run'}" + (
        " — FAILED" if failed else ""
    )
    facts = _facts(manifest, cfg, run_dir)
    stats = manifest.get("stats") or {}
    try:
        equity = pd.read_parquet(run_dir / "equity.parquet")
        trades = pd.read_parquet(run_dir / "trades.parquet")
    except (OSError, ValueError) as exc:
        if not failed:
            raise ConfigError(f"{run_dir}: incomplete run directory ({exc})") from None
        return write_failed_report(path, title=title, facts=facts, stats=stats)
    prices: list[PriceSeries] = []
    if cfg is not None:
        try:
            prices = _prices(cfg)
        except IsoloopError:
            if not failed:
                raise
            # The data may be why the run failed: draw equity and trades without price.
    return write_report(
        path,
        title=title,
        index=equity.index.to_numpy(),
        equity=equity["equity"].to_numpy(),
        trades=trades,
        ohlc=prices,
        stats=stats,
        indicators=read_indicators(run_dir),
        facts=facts,
        warmup_bars=int(manifest.get("warmup_bars") or 0),
        values=_position_values(equity) if len(prices) > 1 else None,
    )
