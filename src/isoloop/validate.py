"""`isoloop validate`: dispatch by the config's `kind` to the run kind that checks it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from isoloop.config import read_yaml

__all__ = ["validate_config_file"]


def validate_config_file(path: Path, overrides: dict[str, Any] | None = None) -> str:
    """Everything a run of this config would check up front; returns a one-line summary."""
    raw = read_yaml(path)  # file-level errors first, with the file's name
    if raw.get("kind") == "sweep":
        from isoloop.sweep.runner import validate_sweep_file

        return validate_sweep_file(path, overrides)
    if raw.get("kind") == "live":
        from isoloop.live.validate import validate_live_config_file

        return validate_live_config_file(path)
    from isoloop.backtest.validate import validate_run_config

    return validate_run_config(path, overrides)
