"""Load run configs from YAML, dicts or models, apply dotted overrides, explain errors.

Every failure becomes a `ConfigError` with one line naming the file, the key
and how to fix it; the CLI prints it as `error: …` and exits 2.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from isoloop.config.classpath import import_class, module_file, user_module_folder
from isoloop.config.limits import check_limit, shorten
from isoloop.config.models import RunConfig
from isoloop.config.yaml12 import load_yaml
from isoloop.errors import BlueprintError, ConfigError

__all__ = [
    "apply_overrides",
    "describe_validation_error",
    "load_run_config",
    "parse_set_options",
    "read_yaml",
    "validate_model",
]

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML file's top-level mapping; errors name the file and the line."""
    if not path.exists():
        raise ConfigError(f"{path}: file not found; check the path")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a YAML config file")
    check_limit("yaml_bytes", path.stat().st_size, str(path))
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or "syntax error"
        raise ConfigError(f"{path}:{where}: invalid YAML ({problem}); fix the syntax") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    except yaml.YAMLError as exc:
        text = shorten(" ".join(str(exc).split()), 120)
        raise ConfigError(f"{path}: invalid YAML ({text}); fix the syntax") from None
    if raw is None:
        raise ConfigError(f"{path}: the file is empty; see configs/goog_sma.yaml for an example")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of keys, not {type(raw).__name__}"
        )
    return raw


def parse_set_options(options: Iterable[str]) -> dict[str, Any]:
    """`a.b=value` strings → {"a.b": value}, values parsed as YAML (`12` → int, `x` → str)."""
    out: dict[str, Any] = {}
    for option in options:
        key, sep, text = option.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(
                f"--set {shorten(repr(option))}: expected dotted.key=value, e.g. venue.cash=50000"
            )
        where = f"--set {shorten(key)}"
        check_limit("string_chars", len(key), f"{where} (the key)")
        check_limit("string_chars", len(text), where)
        try:
            out[key] = load_yaml(text, where) if text.strip() else ""
        except yaml.YAMLError:
            raise ConfigError(f"{where}=…: the value is not valid YAML") from None
    return out


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of `raw` with each dotted key set (intermediate mappings are created)."""
    out = copy.deepcopy(dict(raw))
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        if not all(parts):
            raise ConfigError(f"override {shorten(repr(dotted))}: empty key segment")
        node: dict[str, Any] = out
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                prefix = ".".join(parts[: i + 1])
                raise ConfigError(
                    f"override {shorten(repr(dotted))}: {shorten(repr(prefix))} is a value, "
                    "not a section"
                )
            node = child
        node[parts[-1]] = value
    return out


def _loc(loc: tuple[int | str, ...]) -> str:
    # Drop pydantic's union-branch tags (e.g. 'function-after[...]', 'percent') that are
    # not keys the user wrote.
    keys = [
        str(p) for p in loc if not (isinstance(p, str) and ("[" in p or "-" in p or p in _TAGS))
    ]
    return ".".join(keys) or "(top level)"


_TAGS = frozenset({"percent", "per_share", "fixed", "tiered", "float", "int", "str", "bool"})


def _shown(given: object) -> str:
    """What was given, without echoing text: a YAML file named as a config (or as a
    sweep's `base:`) may be any file, and errors never quote a file's contents."""
    if given is None or isinstance(given, bool | int | float):
        return shorten(repr(given))
    if isinstance(given, str):
        return f"a string of {len(given)} character(s)"
    return type(given).__name__


def describe_validation_error(exc: ValidationError, source: str) -> str:
    """One line: the source, the dotted key, what is wrong, what was given."""
    errors = exc.errors(include_url=False)
    # With unions, pydantic reports one error per branch; the deepest location is the
    # branch the user was writing (e.g. the `tiered` commission mapping, not the float).
    first = max(errors, key=lambda e: len(e["loc"]))
    key = shorten(_loc(first["loc"]))
    kind = first["type"]
    if kind == "extra_forbidden":
        msg = f"unknown key {key!r}; remove it or check its spelling"
    elif kind == "missing":
        msg = f"missing required key {key!r}"
    else:
        shown = _shown(first.get("input"))
        msg = f"{key}: {shorten(first['msg'].rstrip('.'), 300)} (got {shown})"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{source}: {msg}{more}"


def validate_model(model: type[M], raw: Mapping[str, Any], source: str) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source)) from None


def load_run_config(
    config: str | Path | Mapping[str, Any] | RunConfig,
    overrides: Mapping[str, Any] | None = None,
    *,
    folder: Path | None = None,
) -> tuple[RunConfig, Path]:
    """A validated `RunConfig` and the folder relative data paths resolve against.

    `folder` stands in for the working folder when the config is not a file (an
    inline base of a sweep file resolves against the sweep file's folder)."""
    overrides = dict(overrides or {})
    here = folder if folder is not None else Path.cwd()
    if isinstance(config, RunConfig):
        if not overrides:
            return config, here
        raw: Mapping[str, Any] = config.model_dump(mode="python", by_alias=True)
        source, base = "config", here
    elif isinstance(config, Mapping):
        raw, source, base = config, "config", here
    else:
        path = Path(config)
        raw, source, base = read_yaml(path), str(path), path.resolve().parent
    merged = apply_overrides(raw, overrides) if overrides else dict(raw)
    if merged.get("kind", "backtest") != "backtest":
        raise ConfigError(
            f"{source}: kind {merged.get('kind')!r} is not a backtest config; "
            "use `isoloop sweep` for kind: sweep"
        )
    cfg = validate_model(RunConfig, merged, source)
    return pin_strategy_path(cfg, base, source), base


def _strategy_folder(cfg: RunConfig, base: Path) -> Path:
    path = cfg.strategy.path
    if path is None:
        return base.resolve()
    folder = Path(path).expanduser()
    return (folder if folder.is_absolute() else base / folder).resolve()


def pin_strategy_path(cfg: RunConfig, base: Path, source: str) -> RunConfig:
    """Import the strategy class (a typo is a config error, not a failed run) and pin
    `strategy.path` to the absolute folder its module came from, when that is the
    config's folder (or the `strategy.path` given), so workers find it too.

    A module importable without the folder (installed, on `PYTHONPATH`) wins; when
    the folder also holds a module of that name, that is an error, not a silent pick.
    """
    folder = _strategy_folder(cfg, base)
    if cfg.strategy.path is not None and not folder.is_dir():
        raise ConfigError(
            f"{source}: strategy.path: {cfg.strategy.path!r} is not a folder "
            f"(resolved to {folder}); it names the folder that holds the strategy's module"
        )
    module_name = cfg.strategy.class_path.partition(":")[0]
    try:
        check_strategy_class(cfg, source, search=(folder,))
    except ConfigError:
        _check_not_shadowed(module_name, folder, source)
        raise
    _check_not_shadowed(module_name, folder, source)
    if user_module_folder(module_name, (folder,)) is None or module_file(module_name) is None:
        return cfg
    if cfg.strategy.path == str(folder):
        return cfg
    strategy = cfg.strategy.model_copy(update={"path": str(folder)})
    return cfg.model_copy(update={"strategy": strategy})


def _check_not_shadowed(module_name: str, folder: Path, source: str) -> None:
    """The folder holds `module_name` but an installed module of that name was imported."""
    origin = module_file(module_name)
    if origin is None or user_module_folder(module_name, (folder,)) is None:
        return
    if not origin.is_relative_to(folder):
        top = module_name.partition(".")[0]
        raise ConfigError(
            f"{source}: strategy.class: module {top!r} is imported from {origin}, not from "
            f"{folder}: an installed module of the same name wins; rename your module "
            f"(e.g. {top}_strategy.py) and strategy.class"
        )


def check_strategy_class(
    cfg: RunConfig, source: str, *, search: tuple[Path, ...] | None = None
) -> type:
    """Import `strategy.class` now so a typo is a config error, not a failed run.

    Without `search`, a module that is not importable otherwise is looked for in
    the config's `strategy.path` (pinned when the config was loaded).
    """
    if search is None:
        search = () if cfg.strategy.path is None else (_strategy_folder(cfg, Path.cwd()),)
    try:
        return import_class(
            cfg.strategy.class_path, where=f"{source}: strategy.class", search=search
        )
    except BlueprintError as exc:
        raise ConfigError(str(exc)) from None
