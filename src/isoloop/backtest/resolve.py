"""Resolving a run config before it runs: absolute data paths, a pinned blueprint, its hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from isoloop.config import DataConfig, RunConfig
from isoloop.errors import ConfigError
from isoloop.results.rundir import check_name
from isoloop.scope.blueprint import find_blueprint

__all__ = ["BACKTEST_SHARED", "config_hash", "resolve_sources", "with_config_source"]

# The shared services a backtest provides (a blueprint may name only these).
BACKTEST_SHARED = ("market_data", "fingerprints")

_FILE_SCHEMES = ("csv:", "parquet:")


def resolve_sources(
    config: RunConfig, base_dir: Path, *, blueprints: dict[tuple[str, str, str], str] | None = None
) -> RunConfig:
    """Make file data sources absolute so a manifest re-runs from any folder.

    The run's `name` is checked here too (it names the run folder and a sweep's
    folder), so a backtest and a sweep refuse an unsafe one before anything runs.
    `blueprints` (a coordinator's) remembers where each blueprint was found, so a
    worker running many trials of one config searches the folders once.
    """
    if config.name is not None:
        check_name(config.name, "name")

    def fix(dc: DataConfig) -> DataConfig:
        for scheme in _FILE_SCHEMES:
            if dc.source.startswith(scheme):
                path = Path(dc.source.removeprefix(scheme))
                if not path.is_absolute():
                    return dc.model_copy(
                        update={"source": f"{scheme}{(base_dir / path).resolve()}"}
                    )
        return dc

    update: dict[str, Any] = {}
    data = fix(config.data)
    instruments = [fix(d) for d in config.instruments]
    if data is not config.data or any(
        new is not old for new, old in zip(instruments, config.instruments, strict=True)
    ):
        update = {"data": data, "instruments": instruments}
    key = (config.container, str(base_dir), str(Path.cwd()))
    container = blueprints.get(key) if blueprints is not None else None
    if container is None:
        container = _pinned_blueprint(config.container, base_dir)
        if blueprints is not None:
            blueprints[key] = container
    if container != config.container:
        update["container"] = container
    # Nothing to change (a sweep trial's config, resolved by the sweep): the same object.
    return config.model_copy(update=update) if update else config


def _pinned_blueprint(container: str, base_dir: Path) -> str:
    """The `container` a resolved config names: a blueprint of the user's (a path, or a
    name in the config's own containers/ folder) by absolute path, like a CSV, so the run
    finds it from any folder; a name found in ./containers is left as it is (that is
    where it is looked up anyway)."""
    found = find_blueprint(container, base_dir)
    own = base_dir.resolve() != Path.cwd().resolve() or Path(container).suffix != ""
    if own and isinstance(found, Path) and found.resolve().is_relative_to(base_dir.resolve()):
        return str(found.resolve())
    return container


def config_hash(config: RunConfig) -> str:
    """A stable hash of the resolved config (identifies a run's inputs)."""
    text = json.dumps(config.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def with_config_source(exc: ConfigError, config: object) -> ConfigError:
    """`exc` with the config file named in front (once), for errors found while building."""
    source = str(config) if isinstance(config, str | Path) else "config"
    message = str(exc)
    return exc if message.startswith(source) else type(exc)(f"{source}: {message}")
