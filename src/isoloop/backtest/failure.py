"""A failed backtest keeps its evidence: the error event and a published run folder.

A backtest that fails while it runs (an engine error such as EXEC-005, a
strategy's own exception) still publishes its run folder under the name a
successful run would get, with `"status": "failed"` in the manifest, the events
written up to the failure, and a final error event whose fields the manifest's
`error` repeats. Input errors (exit code 2) and interruptions publish nothing:
they are not a run that failed, and the staging folder is removed as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from isoloop.config import RunConfig
from isoloop.data import MarketData
from isoloop.errors import InputError
from isoloop.logging import LogSink, make_run_logger
from isoloop.model.events import ErrorEvent, locate_failure
from isoloop.model.modes import ExecutionMode
from isoloop.results.rundir import (
    discard_staging,
    export_events_csv,
    finalize_run_dir,
    hash_run_files,
    versions,
    write_manifest,
)
from isoloop.scope.run_scope import RunScope

__all__ = [
    "ERROR_EVENT",
    "STATUS_FAILED",
    "STATUS_OK",
    "Caught",
    "error_event_of",
    "failed_manifest",
    "locate_errors",
    "log_error_event",
    "publish_failed_run",
    "publishes_evidence",
]

STATUS_OK = "ok"
STATUS_FAILED = "failed"
#: The name of the run's last event when it failed.
ERROR_EVENT = "run_error"
#: What `locate_errors` found: the error event and the container id of the run it ended.
Caught = list[tuple[ErrorEvent, str]]


@contextmanager
def locate_errors(run: RunScope, caught: Caught) -> Iterator[None]:
    """Record the error event of an exception leaving the block, while the run's
    components still exist to say which of them raised it; the exception goes on."""
    try:
        yield
    except Exception as exc:
        component, operation = locate_failure(exc, run.components())
        caught.append(
            (ErrorEvent.of(exc, component=component, operation=operation), run.container_id)
        )
        raise


def publishes_evidence(exc: BaseException) -> bool:
    """A run that started and failed: not bad input, not an interruption."""
    return isinstance(exc, Exception) and not isinstance(exc, InputError)


def error_event_of(exc: BaseException, caught: Caught) -> tuple[ErrorEvent, str]:
    """The event `locate_errors` recorded for `exc`, or one made now (a failure while
    building the scope: no component to name, so `run`)."""
    if caught:
        return caught[-1]
    component, operation = locate_failure(exc, ())
    return ErrorEvent.of(exc, component=component, operation=operation), ""


def log_error_event(sink: LogSink, run_id: str, container_id: str, event: ErrorEvent) -> None:
    """Append the error event to the run's events, after the scope's own teardown events."""
    log = make_run_logger(sink, run_id=run_id, container_id=container_id)
    log.error(ERROR_EVENT, **event.fields())


def failed_manifest(
    cfg: RunConfig,
    *,
    run_id: str,
    config_hash: str,
    fingerprints: dict[str, str],
    market_data: MarketData | None,
    mode: ExecutionMode,
    error: ErrorEvent,
) -> dict[str, Any]:
    """A failed run's manifest: what ran (config, data, versions) and how it failed.

    It carries no digest, stats or order hash: the run produced none.
    """
    sources = {d.symbol or "": d.source for d in [cfg.data, *cfg.instruments]}
    data: dict[str, Any] = {}
    for sym, fp in fingerprints.items():
        bars = len(market_data[sym]) if market_data is not None and sym in market_data else None
        data[sym] = {"fingerprint": fp, "bars": bars, "source": sources.get(sym)}
    return {
        "format": 2,
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": STATUS_FAILED,
        "mode": mode.value,
        "config": cfg.model_dump(mode="json", by_alias=True),
        "config_hash": config_hash,
        "data": data,
        "seed": cfg.seed,
        "versions": versions(),
        "error": error.fields(),
    }


def publish_failed_run(
    exc: BaseException, staging: Path, final: Path, manifest: dict[str, Any]
) -> Path | None:
    """Publish the staging folder of the run that failed with `exc`: its events (JSONL
    and CSV) and the manifest, hashed like a successful run's files so `verify` checks
    them. `exc`'s message then names the folder (the CLI's one `error:` line shows
    it). If even this fails, the staging folder goes and `exc` carries a note why."""
    try:
        events = staging / "events.jsonl"
        if not events.exists():
            events.touch()  # the run's events went to the caller's own sink
        export_events_csv(events, staging / "events.csv")
        write_manifest(staging, {**manifest, "files": hash_run_files(staging)})
        published = finalize_run_dir(staging, final)
    except Exception as publish_error:
        discard_staging(staging)
        exc.add_note(f"the failed run's folder could not be written: {publish_error!r}")
        return None
    where = f"failed run folder: {published}"
    if exc.args and isinstance(exc.args[0], str):
        exc.args = (f"{exc.args[0]} ({where})", *exc.args[1:])
    exc.add_note(where)
    return published
