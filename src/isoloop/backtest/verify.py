"""Re-run a run directory from its manifest and say exactly what differs, if anything.

Two checks: every file the manifest lists must still have the SHA-256 it was
written with (an edited, deleted or replaced artifact is named), and the run,
re-run from the manifest's config, must give the recorded digest.

A failed run's folder (`"status": "failed"`) has no digest to reproduce, so it
never verifies (exit code 1): the outcome says so first, then whether its files
are intact and whether a re-run still fails with the same error code.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from isoloop.backtest.run import config_hash, run_backtest
from isoloop.config import RunConfig, describe_validation_error
from isoloop.data import load_market_data
from isoloop.errors import ConfigError, InputError
from isoloop.results.digest import canonical_json, file_sha256, run_digest
from isoloop.results.order_hash import DIGEST_VERSION, order_list_hash_v1
from isoloop.results.rundir import MANIFEST, is_safe_name, read_manifest

__all__ = ["VerifyOutcome", "file_differences", "verify_run_dir"]


@dataclass(frozen=True)
class VerifyOutcome:
    ok: bool
    digest: str | None
    expected_digest: str | None
    differences: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "digest": self.digest,
            "expected_digest": self.expected_digest,
            "differences": self.differences,
        }


def _file_difference(run_dir: Path, name: str, recorded: object) -> str | None:
    """What is wrong with one file the manifest lists, or None when it is as written."""
    if not is_safe_name(name) or name == MANIFEST:
        return "manifest: lists a path that is not a plain file name (the manifest was edited)"
    if not isinstance(recorded, Mapping) or not isinstance(recorded.get("sha256"), str):
        return f"{name}: the manifest's record of it is malformed (the manifest was edited)"
    path = run_dir / name
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return f"{name}: missing (the run wrote {recorded.get('bytes')} bytes)"
    if not stat.S_ISREG(mode):
        return f"{name}: no longer a regular file (replaced by a link or a folder)"
    sha, size = file_sha256(path)
    if sha != recorded["sha256"]:
        return (
            f"{name}: changed since the run (sha256 {recorded['sha256']} recorded, {sha} now; "
            f"{recorded.get('bytes')} bytes recorded, {size} now)"
        )
    return None


def file_differences(run_dir: Path, manifest: Mapping[str, Any]) -> list[str]:
    """One line per file of the run folder that is missing or differs from the manifest."""
    files = manifest.get("files")
    if files is None:
        fmt = manifest.get("format")
        if isinstance(fmt, int) and fmt >= 2:
            return ["manifest: its 'files' table is gone (the manifest was edited)"]
        return []  # written before file hashes were recorded: nothing to compare with
    if not isinstance(files, Mapping):
        return ["manifest: 'files' is not a table of file hashes (the manifest was edited)"]
    found = (_file_difference(run_dir, str(name), files[name]) for name in sorted(files))
    return [line for line in found if line is not None]


def _first_order_difference(run_dir: Path, orders: list[dict[str, Any]]) -> str | None:
    path = run_dir / "orders.jsonl"
    if not path.exists():
        return None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        recorded = [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # unreadable: the file check has named it already
    if not all(isinstance(r, dict) for r in recorded):
        return None
    for i, (a, b) in enumerate(zip(recorded, orders, strict=False)):
        if canonical_json(a) != canonical_json(json.loads(json.dumps(b, default=str))):
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            return f"order #{i} differs in {', '.join(keys)}"
    if len(recorded) != len(orders):
        return f"order count differs: recorded {len(recorded)}, re-run {len(orders)}"
    return None


def verify_run_dir(run_dir: Path) -> VerifyOutcome:
    """Exit-code semantics: `ok` only when every recorded file is intact and the re-run
    digest equals the recorded one."""
    manifest = read_manifest(run_dir)
    source = str(run_dir / MANIFEST)
    try:
        cfg = RunConfig.model_validate_json(json.dumps(manifest["config"]))
    except KeyError:
        raise ConfigError(f"{source}: no 'config' section") from None
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, f"{source} config")) from None
    expected = manifest.get("digest")
    differences = file_differences(run_dir, manifest)
    if manifest.get("config_hash") not in (None, config_hash(cfg)):
        differences.append(
            "manifest config was edited after the run (config_hash does not match its config)"
        )

    if manifest.get("status") == "failed":
        return _failed_run_outcome(cfg, manifest, differences)

    recorded_data = manifest.get("data", {})
    _, prints = load_market_data([cfg.data, *cfg.instruments], None)
    for symbol in sorted(set(recorded_data) | set(prints)):
        was = (recorded_data.get(symbol) or {}).get("fingerprint")
        now = prints.get(symbol)
        if was != now:
            differences.append(f"data for {symbol}: fingerprint {was} recorded, {now} now")

    version = manifest.get("digest_version", 1)
    if version not in (1, DIGEST_VERSION):
        raise ConfigError(
            f"{source}: digest_version {version!r} is not one this isoloop computes "
            f"(1 or {DIGEST_VERSION}); verify it with the isoloop that wrote it"
        )
    result = run_backtest(cfg, report=False)
    digest, olh = result.digest, result.order_list_hash
    if version == 1:
        # Written before the binary order layout: the re-run is hashed as it was then.
        olh = order_list_hash_v1(result.orders)
        digest = run_digest(olh, result.equity_values, result.stats)
    if digest != expected:
        differences.append(f"digest: {expected} recorded, {digest} re-run")
        if olh != manifest.get("order_list_hash"):
            where = _first_order_difference(run_dir, result.orders)
            differences.append(
                "order list: " + (where or f"hash {manifest.get('order_list_hash')} recorded")
            )
    recorded_stats = manifest.get("stats") or {}
    # The stats the folder recorded: one written by an earlier release lacks the
    # stats added since (which no digest covers, see DIGEST_STATS_KEYS).
    changed = [
        f"{key} {recorded_stats.get(key)!r} -> {result.stats.get(key)!r}"
        for key in sorted(recorded_stats)
        if canonical_json(recorded_stats.get(key)) != canonical_json(result.stats.get(key))
    ]
    if changed:
        more = f" (and {len(changed) - 5} more)" if len(changed) > 5 else ""
        differences.append(f"stats ({len(changed)} differ): " + "; ".join(changed[:5]) + more)
    return VerifyOutcome(
        ok=not differences,
        digest=digest,
        expected_digest=expected,
        differences=differences,
    )


def _failed_run_outcome(
    cfg: RunConfig, manifest: Mapping[str, Any], differences: list[str]
) -> VerifyOutcome:
    """A failed run never verifies; say how it failed and how a re-run fares now."""
    error = manifest.get("error")
    error = error if isinstance(error, Mapping) else {}
    code = error.get("code")
    where = f"{error.get('component')}.{error.get('operation')}"
    lines = [
        f"failed run: the run failed ({code or 'no error code'} in {where}); "
        "a failed run has no digest to reproduce"
    ]
    try:
        result = run_backtest(cfg, report=False)
    except InputError:
        raise
    except Exception as exc:
        again = getattr(exc, "code", None)
        if again == code:
            lines.append(f"re-run fails the same way ({again or type(exc).__name__})")
        else:
            lines.append(f"re-run fails differently: {type(exc).__name__}: {exc}")
        digest = None
    else:
        lines.append(f"re-run now completes (digest {result.digest}): run it again to publish")
        digest = result.digest
    return VerifyOutcome(
        ok=False, digest=digest, expected_digest=None, differences=lines + differences
    )
