"""Run directories: written to a staging sibling and renamed into place at the end.

A failed or interrupted run therefore never leaves a half-written run directory
under its final name: every file (the report included) is written into
`.NAME.<pid>.<token>.partial/` first, the manifest records each file's SHA-256,
and only then is the folder renamed. A run that failed while it ran publishes its
folder the same way, with its events and a `"status": "failed"` manifest
(`isoloop.backtest.failure`); the staging folder of bad input, an interruption or
a failure while writing is removed at once; one whose writer was killed is
removed by the next run into the same output folder (only when its writer
process is gone).
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import secrets
import shutil
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import psutil

from isoloop.errors import ConfigError, UnsafePathError
from isoloop.results.digest import file_sha256
from isoloop.results.trades import trades_table

__all__ = [
    "INDICATORS_CSV",
    "INDICATORS_JSON",
    "MANIFEST",
    "REPORT",
    "SAFE_NAME_PATTERN",
    "TRACKED_DISTRIBUTIONS",
    "VALUE_PREFIX",
    "IndicatorLike",
    "StoredIndicator",
    "check_name",
    "discard_staging",
    "equity_table",
    "export_events_csv",
    "finalize_run_dir",
    "hash_run_files",
    "inside",
    "is_safe_name",
    "read_indicators",
    "read_manifest",
    "remove_stale_staging",
    "staging_dir",
    "versions",
    "write_indicators",
    "write_manifest",
    "write_run_files",
]

MANIFEST = "manifest.json"
#: The equity table's column of one symbol's position value: `value:GOOG`.
VALUE_PREFIX = "value:"
REPORT = "report.html"
# A run's declared indicators: one column per line, and what each indicator is.
INDICATORS_CSV = "indicators.csv"
INDICATORS_JSON = "indicators.json"
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
SAFE_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
_SAFE_NAME = re.compile(SAFE_NAME_PATTERN)
# `.NAME.<pid>.<token>.partial`: NAME is a safe name, so the pid is the second-to-last field.
_STAGING = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[0-9a-f]+\.partial")
_WRITER = ".writer.json"  # inside a staging folder: who writes it (removed before the rename)


def versions() -> dict[str, str]:
    """Python and the versions of the packages that can change a result."""
    out = {"python": platform.python_version()}
    for dist in TRACKED_DISTRIBUTIONS:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def is_safe_name(name: object) -> bool:
    return isinstance(name, str) and _SAFE_NAME.fullmatch(name) is not None


def check_name(name: str, key: str) -> str:
    """`name` if it can be a folder name under an output folder; else an `UnsafePathError`.

    The value is not quoted back: it may be long, and it is what the user typed anyway.
    """
    if not is_safe_name(name):
        raise UnsafePathError(
            f"{key}: not a safe name for an output folder; it must match {SAFE_NAME_PATTERN} "
            "(a letter or digit, then up to 99 letters, digits, '.', '_' or '-'; no '/' or '..')"
        )
    return name


def inside(folder: Path, name: str) -> Path:
    """`folder / name`, refused unless it resolves inside `folder` (symlinks followed)."""
    target = folder / name
    root = folder.resolve()
    resolved = target.resolve()
    if resolved == root or not resolved.is_relative_to(root):
        raise UnsafePathError(
            f"{target}: resolves to {resolved}, outside the output folder {root}; "
            f"use a name matching {SAFE_NAME_PATTERN} and no symlink out of the folder"
        )
    return target


def staging_dir(final: Path) -> Path:
    """A fresh staging directory next to `final` (same filesystem, so rename is atomic).

    Stale staging folders of killed writers in the same output folder go first.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(final.parent)
    me = psutil.Process()
    while True:
        staging = final.parent / f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.partial"
        try:
            staging.mkdir()
            break
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
    writer = {"pid": me.pid, "host": socket.gethostname(), "started": me.create_time()}
    (staging / _WRITER).write_text(json.dumps(writer), encoding="utf-8")
    return staging


def _writer_alive(staging: Path, pid: int) -> bool:
    """True unless the process that made `staging` is known to be gone (when unsure: alive)."""
    try:
        writer = json.loads((staging / _WRITER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        writer = {}  # killed between mkdir and the marker, or being renamed right now
    if not isinstance(writer, dict):
        writer = {}
    if writer.get("host") not in (None, socket.gethostname()):
        return True  # another machine's run on a shared folder: its pid means nothing here
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        started = writer.get("started")
        if isinstance(started, int | float) and abs(proc.create_time() - started) > 1.0:
            return False  # the pid was reused by a later process
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # e.g. another user's process: it exists
    return True


def remove_stale_staging(folder: Path) -> list[Path]:
    """Remove staging folders in `folder` whose writer process is dead; returns them."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in sorted(entries, key=lambda e: e.name):
        match = _STAGING.fullmatch(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if not _writer_alive(path, int(match["pid"])):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def discard_staging(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def finalize_run_dir(staging: Path, final: Path) -> Path:
    """Move a complete staging directory to its final name (replacing nothing)."""
    if final.exists():
        raise FileExistsError(f"{final} already exists; choose another --out")
    (staging / _WRITER).unlink(missing_ok=True)
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
    index: np.ndarray,
    equity: np.ndarray,
    trades: pd.DataFrame,
    orders: list[dict[str, Any]],
    indicators: Iterable[IndicatorLike] = (),
    cash: np.ndarray | None = None,
    values: Mapping[str, np.ndarray] | None = None,
) -> None:
    """Trades and equity as Parquet and CSV, orders as JSON lines (the manifest comes last).

    Declared indicators (if any) go to `indicators.csv` and `indicators.json`.
    With the books' `cash` and per-symbol `values`, the equity table also holds
    them (see `equity_table`).
    """
    eq = equity_table(index, equity, cash, values)
    eq.to_parquet(directory / "equity.parquet")
    eq.to_csv(directory / "equity.csv")
    table = trades_table(trades)  # with `duration`, as `.trades` shows it
    table.to_parquet(directory / "trades.parquet", index=False)
    table.to_csv(directory / "trades.csv", index=False)
    with (directory / "orders.jsonl").open("w", encoding="utf-8") as fh:
        for order in orders:
            fh.write(json.dumps(order, sort_keys=True, default=str) + "\n")
    write_indicators(directory, index, indicators)


def equity_table(
    index: np.ndarray,
    equity: np.ndarray,
    cash: np.ndarray | None = None,
    values: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The equity over time: `equity` (the account total, the curve digests hash) first.

    Given the books' `cash` and each symbol's position value (`value:<symbol>`,
    marked at its last traded close), those columns follow, so a portfolio reads
    as cash plus one column per symbol: `equity = cash + sum of value:* columns`.
    """
    eq = pd.DataFrame({"equity": equity}, index=pd.DatetimeIndex(index, name="time"))
    if cash is not None:
        eq["cash"] = cash
    for symbol, curve in (values or {}).items():
        eq[f"{VALUE_PREFIX}{symbol}"] = curve
    return eq


def hash_run_files(directory: Path) -> dict[str, dict[str, Any]]:
    """`{file name: {"sha256", "bytes"}}` for every file of a run folder but the manifest."""
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.iterdir()):
        if path.name in (MANIFEST, _WRITER) or not path.is_file() or path.is_symlink():
            continue
        sha, size = file_sha256(path)
        files[path.name] = {"sha256": sha, "bytes": size}
    return files


def write_manifest(directory: Path, manifest: Mapping[str, Any]) -> None:
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


class IndicatorLike(Protocol):
    """What a declared indicator offers to files and reports (the engine's `Indicator`)."""

    @property
    def name(self) -> str: ...
    @property
    def values(self) -> np.ndarray: ...
    @property
    def lines(self) -> tuple[str, ...]: ...
    @property
    def overlay(self) -> bool: ...
    @property
    def plot(self) -> bool: ...
    @property
    def warmup(self) -> int: ...


@dataclass(frozen=True, slots=True, eq=False)
class StoredIndicator:
    """An indicator read back from a run folder: `values` is `(lines, bars)`."""

    name: str
    values: np.ndarray
    lines: tuple[str, ...]
    overlay: bool
    plot: bool
    warmup: int


def write_indicators(
    directory: Path, index: np.ndarray, indicators: Iterable[IndicatorLike]
) -> int:
    """`indicators.csv` (time + a column per line) and `indicators.json`; returns the count.

    Nothing is written for a run without indicators. Columns are addressed by position
    in the JSON (`column`: the first line's), so equal line labels cannot be confused.
    """
    items = list(indicators)
    if not items:
        return 0
    blocks: list[np.ndarray] = []
    meta: list[dict[str, Any]] = []
    for ind in items:
        meta.append(
            {
                "name": ind.name,
                "lines": list(ind.lines),
                "column": sum(b.shape[0] for b in blocks),
                "overlay": bool(ind.overlay),
                "plot": bool(ind.plot),
                "warmup": int(ind.warmup),
            }
        )
        blocks.append(np.atleast_2d(ind.values))
    frame = pd.DataFrame(
        np.vstack(blocks).T,
        index=pd.DatetimeIndex(index, name="time"),
        columns=[line for ind in items for line in ind.lines],
    )
    frame.to_csv(directory / INDICATORS_CSV)
    (directory / INDICATORS_JSON).write_text(
        json.dumps({"indicators": meta}, indent=2) + "\n", encoding="utf-8"
    )
    return len(items)


def read_indicators(run_dir: Path) -> list[StoredIndicator]:
    """The indicators a run folder holds (none for a run that declared none)."""
    meta_path = run_dir / INDICATORS_JSON
    if not meta_path.is_file():
        return []
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))["indicators"]
        values = pd.read_csv(run_dir / INDICATORS_CSV, index_col=0).to_numpy(dtype="float64")
        return [
            StoredIndicator(
                name=str(m["name"]),
                values=values[:, m["column"] : m["column"] + len(m["lines"])].T.copy(),
                lines=tuple(str(x) for x in m["lines"]),
                overlay=bool(m["overlay"]),
                plot=bool(m["plot"]),
                warmup=int(m["warmup"]),
            )
            for m in meta
        ]
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise ConfigError(
            f"{run_dir}: {INDICATORS_JSON} or {INDICATORS_CSV} is unreadable ({exc}); "
            "re-run the backtest to write them again"
        ) from None
