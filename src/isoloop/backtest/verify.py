"""Re-run a run directory from its manifest and say exactly what differs, if anything."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from isoloop.backtest.run import config_hash, run_backtest
from isoloop.config import RunConfig, describe_validation_error
from isoloop.data import load_market_data
from isoloop.errors import ConfigError
from isoloop.results.digest import canonical_json
from isoloop.results.rundir import MANIFEST, read_manifest

__all__ = ["VerifyOutcome", "verify_run_dir"]


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


def _first_order_difference(run_dir: Path, orders: list[dict[str, Any]]) -> str | None:
    path = run_dir / "orders.jsonl"
    if not path.exists():
        return None
    recorded = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for i, (a, b) in enumerate(zip(recorded, orders, strict=False)):
        if canonical_json(a) != canonical_json(json.loads(json.dumps(b, default=str))):
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            return f"order #{i} differs in {', '.join(keys)}"
    if len(recorded) != len(orders):
        return f"order count differs: recorded {len(recorded)}, re-run {len(orders)}"
    return None


def verify_run_dir(run_dir: Path) -> VerifyOutcome:
    """Exit-code semantics: `ok` only when the re-run digest equals the recorded one."""
    manifest = read_manifest(run_dir)
    source = str(run_dir / MANIFEST)
    try:
        cfg = RunConfig.model_validate_json(json.dumps(manifest["config"]))
    except KeyError:
        raise ConfigError(f"{source}: no 'config' section") from None
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, f"{source} config")) from None
    expected = manifest.get("digest")
    differences: list[str] = []
    if manifest.get("config_hash") not in (None, config_hash(cfg)):
        differences.append(
            "manifest config was edited after the run (config_hash does not match its config)"
        )

    recorded_data = manifest.get("data", {})
    _, prints = load_market_data([cfg.data, *cfg.instruments], None)
    for symbol in sorted(set(recorded_data) | set(prints)):
        was = (recorded_data.get(symbol) or {}).get("fingerprint")
        now = prints.get(symbol)
        if was != now:
            differences.append(f"data for {symbol}: fingerprint {was} recorded, {now} now")

    result = run_backtest(cfg)
    if result.digest != expected:
        differences.append(f"digest: {expected} recorded, {result.digest} re-run")
        if result.order_list_hash != manifest.get("order_list_hash"):
            where = _first_order_difference(run_dir, result.orders)
            differences.append(
                "order list: " + (where or f"hash {manifest.get('order_list_hash')} recorded")
            )
    recorded_stats = manifest.get("stats") or {}
    changed = [
        f"{key} {recorded_stats.get(key)!r} -> {result.stats.get(key)!r}"
        for key in sorted(set(recorded_stats) | set(result.stats))
        if canonical_json(recorded_stats.get(key)) != canonical_json(result.stats.get(key))
    ]
    if changed:
        more = f" (and {len(changed) - 5} more)" if len(changed) > 5 else ""
        differences.append(f"stats ({len(changed)} differ): " + "; ".join(changed[:5]) + more)
    return VerifyOutcome(
        ok=not differences,
        digest=result.digest,
        expected_digest=expected,
        differences=differences,
    )
