"""Run directories: written to a temporary sibling and renamed into place at the end.

A failed or interrupted run therefore never leaves a half-written run directory
under its final name; the temporary one is removed on failure.
"""

from __future__ import annotations

import csv
import json
import platform
import shutil
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from isoloop.errors import ConfigError

__all__ = [
    "MANIFEST",
    "TRACKED_DISTRIBUTIONS",
    "discard_staging",
    "export_events_csv",
    "finalize_run_dir",
    "read_manifest",
    "staging_dir",
    "versions",
    "write_run_files",
]

MANIFEST = "manifest.json"
TRACKED_DISTRIBUTIONS = (
    "isoloop",
    "numpy",
    "pandas",
    "dependency-injector",
    "pydantic",
    "structlog",
    "backtesting",
    "pyarrow",
)


def versions() -> dict[str, str]:
    """Python and the versions of the packages that can change a result."""
    out = {"python": platform.python_version()}
    for dist in TRACKED_DISTRIBUTIONS:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def staging_dir(final: Path) -> Path:
    """A fresh temporary directory next to `final` (same filesystem, so rename is atomic)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    return staging


def discard_staging(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def finalize_run_dir(staging: Path, final: Path) -> Path:
    """Move a complete staging directory to its final name (replacing nothing)."""
    if final.exists():
        raise FileExistsError(f"{final} already exists; choose another --out")
    staging.rename(final)
    return final


def export_events_csv(jsonl: Path, out: Path) -> int:
    """Flatten events.jsonl into a CSV with one column per key seen; returns the row count."""
    records = []
    if jsonl.exists():
        with jsonl.open(encoding="utf-8") as fh:
            records = [json.loads(line) for line in fh if line.strip()]
    preferred = ["timestamp", "level", "event", "run_id", "container_id"]
    keys = preferred + sorted({k for r in records for k in r} - set(preferred))
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
        writer.writeheader()
        for record in records:
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in record.items()}
            )
    return len(records)


def write_run_files(
    directory: Path,
    *,
    manifest: Mapping[str, Any],
    index: np.ndarray,
    equity: np.ndarray,
    trades: pd.DataFrame,
    orders: list[dict[str, Any]],
) -> None:
    """Trades and equity as Parquet and CSV, orders as JSON lines, then the manifest."""
    eq = pd.DataFrame({"equity": equity}, index=pd.DatetimeIndex(index, name="time"))
    eq.to_parquet(directory / "equity.parquet")
    eq.to_csv(directory / "equity.csv")
    trades.to_parquet(directory / "trades.parquet", index=False)
    trades.to_csv(directory / "trades.csv", index=False)
    with (directory / "orders.jsonl").open("w", encoding="utf-8") as fh:
        for order in orders:
            fh.write(json.dumps(order, sort_keys=True, default=str) + "\n")
    (directory / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / MANIFEST
    if not path.is_file():
        raise ConfigError(f"{run_dir}: no {MANIFEST}; is this a run directory?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data
