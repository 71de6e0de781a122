"""`isoloop validate` for a sweep file: what a run would check, without running a trial."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from isoloop.backtest.validate import validate_run_config
from isoloop.errors import ConfigError
from isoloop.sweep.config import DATA_SOURCE_KEY, build_search
from isoloop.sweep.datacache import load_sweep_data
from isoloop.sweep.datasets import dataset_slice
from isoloop.sweep.loading import load_sweep, params_config
from isoloop.sweep.search import GridSearch

__all__ = ["validate_sweep_file"]


def validate_sweep_file(path: Path, overrides: Mapping[str, Any] | None = None) -> str:
    """The sweep config, its first trial's run config and its data; a one-line summary."""
    loaded = load_sweep(path, overrides)
    search = build_search(loaded.config)
    # The first grid point (after the constraint) stands for the space, whatever the search.
    grid = GridSearch(loaded.config.search_space(), loaded.config.compiled_constraint())
    first = next(iter(grid.trials()), None)
    if first is None:
        raise ConfigError(f"{path}: the space (after the constraint) has no trials")
    # The first point must make a valid run: config keys, data, blueprint, strategy params.
    params = dict(first[1])
    if loaded.datasets:  # the first data set as the trial would load it (path resolved)
        params[DATA_SOURCE_KEY] = loaded.datasets[0][1]
    try:
        validate_run_config(params_config(loaded.base, params))
    except ConfigError as exc:
        raise ConfigError(f"{path}: trial {first[0]} {dict(first[1])}: {exc}") from None
    data, _ = load_sweep_data(loaded)
    bars = ", ".join(f"{s} {len(b)} bars" for s, b in data.items())
    if loaded.datasets:  # the shared keys carry the data set's position: name them by source

        def described(i: int) -> str:
            return ", ".join(f"{s} {len(b)} bars" for s, b in dataset_slice(data, i).items())

        bars = "data sets " + ", ".join(
            f"{written} ({described(i)})" for i, (written, _) in enumerate(loaded.datasets)
        )
    total = getattr(search, "total", None)
    size = f"{total()} trials" if callable(total) else f"{loaded.config.search.method} search"
    return (
        f"sweep of {loaded.base.strategy.class_path} on {bars}: {size}, "
        f"executor {loaded.config.executor.kind}"
    )
