"""A run folder written before stats were added still verifies (for tests/reproducibility/)."""

from __future__ import annotations

import json
from pathlib import Path

from isoloop import run_backtest
from isoloop.backtest.verify import verify_run_dir
from isoloop.results.digest import DIGEST_STATS_KEYS

ROOT = Path(__file__).resolve().parents[2]


def test_a_folder_without_the_added_stats_verifies(tmp_path: Path) -> None:
    run_backtest(ROOT / "configs" / "goog_sma.yaml", out=tmp_path, report=False)
    folder = next(tmp_path.iterdir())
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    # What an earlier release recorded: only the stats its digest covers.
    manifest["stats"] = {k: v for k, v in manifest["stats"].items() if k in DIGEST_STATS_KEYS}
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    outcome = verify_run_dir(folder)
    assert outcome.ok, outcome.differences
    # A recorded stat that no longer matches is still caught.
    manifest["stats"]["sqn"] = 0.0
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    assert any("sqn" in line for line in verify_run_dir(folder).differences)
