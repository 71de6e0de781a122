"""Loading a sweep: the sweep config, its base run config, and a trial's config from them.

Everything here runs in the driver, before any worker starts, so bad input is
reported with the sweep file's name and nothing has run yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isoloop.backtest.run import resolve_sources
from isoloop.config import RunConfig, apply_overrides, load_run_config, read_yaml, validate_model
from isoloop.errors import ConfigError, LimitExceeded
from isoloop.sweep.config import DATA_SOURCE_KEY, SweepConfig
from isoloop.sweep.objective import import_function

__all__ = ["LoadedSweep", "load_sweep", "params_config", "trial_overrides"]


@dataclass(frozen=True)
class LoadedSweep:
    """A validated sweep config with its base run config (data sources resolved)."""

    config: SweepConfig
    base: RunConfig
    base_dir: Path
    source: str
    # The sweep file's folder: relative data sources in the space and objective modules
    # are found there.
    folder: Path | None = None
    # `space: {data.source: [...]}`: each value as written and its resolved source.
    datasets: tuple[tuple[str, str], ...] = ()


def trial_overrides(params: Mapping[str, Any]) -> dict[str, Any]:
    """Space keys → dotted config keys: a bare name is a strategy parameter."""
    return {(k if "." in k else f"strategy.params.{k}"): v for k, v in params.items()}


def params_config(base: RunConfig, params: Mapping[str, Any]) -> dict[str, Any]:
    """The base run config (JSON form) with one trial's parameters applied."""
    return apply_overrides(base.model_dump(mode="json", by_alias=True), trial_overrides(params))


def load_sweep(
    config: str | Path | Mapping[str, Any] | SweepConfig, overrides: Mapping[str, Any] | None = None
) -> LoadedSweep:
    """Validate a sweep config and its base run config (with their data sources resolved)."""
    if isinstance(config, SweepConfig):
        raw: dict[str, Any] = config.model_dump(mode="python")
        source, folder = "sweep config", Path.cwd()
    elif isinstance(config, Mapping):
        raw, source, folder = dict(config), "sweep config", Path.cwd()
    else:
        path = Path(config)
        raw, source, folder = read_yaml(path), str(path), path.resolve().parent
    if overrides:
        raw = apply_overrides(raw, overrides)
    if raw.get("kind") != "sweep":
        raise ConfigError(f"{source}: kind must be 'sweep' (got {raw.get('kind')!r})")
    try:
        cfg = validate_model(SweepConfig, raw, source)
    except LimitExceeded as exc:  # raised while compiling the space: add the file's name
        raise LimitExceeded(f"{source}: {exc}") from None
    if isinstance(cfg.base, str):
        base_path = Path(cfg.base)
        if not base_path.is_absolute():
            base_path = folder / base_path
        base, base_dir = load_run_config(base_path)
    else:
        base, base_dir = load_run_config(cfg.base, folder=folder)
    base = resolve_sources(base, base_dir)
    space = cfg.search_space()
    for dim in space.dimensions:
        dotted = next(iter(trial_overrides({dim.key: None})))
        root = dotted.split(".")[0]
        if root not in RunConfig.model_fields and root != "class":
            raise ConfigError(
                f"{source}: space key {dim.key!r} does not name a run config key ({dotted})"
            )
        if "." in dim.key and dim.key != DATA_SOURCE_KEY:
            # A nested key must make a valid run config (a typo is one line, before any
            # trial runs; strategy parameters are checked by the strategy itself).
            raw_trial = params_config(base, {dim.key: dim.values[0]})
            validate_model(RunConfig, raw_trial, f"{source}: space key {dim.key!r}")
    for objective in cfg.objective_list():
        if objective.function is not None:
            import_function(
                objective.function,
                where=f"{source}: objective {objective.name!r}",
                search=(folder,),
            )
    datasets: tuple[tuple[str, str], ...] = ()
    if cfg.sweeps_data:
        datasets = tuple(
            (value, _resolved_source(base, value, folder))
            for value in cfg.space_mapping()[DATA_SOURCE_KEY]
        )
    store_path = cfg.store
    if store_path is not None and not Path(store_path).is_absolute():
        cfg = cfg.model_copy(update={"store": str((folder / store_path).resolve())})
    return LoadedSweep(cfg, base, base_dir, source, folder, datasets)


def _resolved_source(base: RunConfig, value: str, folder: Path) -> str:
    """A data source of the space, with a relative file path made absolute (from `folder`)."""
    data = base.data.model_copy(update={"source": value})
    return resolve_sources(base.model_copy(update={"data": data}), folder).data.source
