"""Blueprints: which class fills each slot of a run container.

A blueprint is data (YAML), never code: class paths are imported, and
constructor parameters are matched by name to other slots, shared services or
a few run-level values. The dependency graph — and therefore the init order —
is derived from those constructor signatures, never listed by hand.

Every class is checked before anything is built (`isoloop.scope.roles`): never a
standard-library class, and, with the run kind's role table, a class that can
play the slot's role. `@config.` references name plain fields only
(`@config.venue.cash`), never private or dunder attributes, and never methods.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from isoloop.config.classpath import import_class
from isoloop.config.yaml12 import load_yaml
from isoloop.errors import BlueprintError
from isoloop.scope.refs import (
    CONFIG_REF,
    FIELD,
    ConfigReader,
    SlotRefs,
    check_config_ref,
    resolve_config_ref,
)
from isoloop.scope.roles import SlotRoles, check_slot_class
from isoloop.scope.signatures import constructor_parameters

__all__ = [
    "CONFIG_REF",
    "RUN_VALUES",
    "Blueprint",
    "SlotPlan",
    "SlotSpec",
    "blueprint_dirs",
    "check_config_ref",
    "find_blueprint",
    "import_class",
    "load_blueprint",
    "packaged_blueprints",
    "resolve_config_ref",
]

# Parameter names a component can ask for besides slots and shared services.
RUN_VALUES = frozenset({"log", "config", "run_id", "seed_sequence"})
_TOP_KEYS = frozenset({"name", "description", "shared", "slots"})
_SLOT_KEYS = frozenset({"class", "args", "role"})


@dataclass(frozen=True, slots=True)
class SlotSpec:
    """One slot as written in the blueprint file."""

    name: str
    class_ref: str
    args: Mapping[str, Any] = field(default_factory=dict)
    role: str | None = None  # the role the slot plays, when its name does not say


@dataclass(frozen=True, slots=True)
class SlotPlan:
    """A slot resolved against a concrete class: what to inject into which parameter."""

    name: str
    cls: type
    slot_params: tuple[tuple[str, str], ...]  # (parameter, slot)
    shared_params: tuple[str, ...]
    run_params: tuple[str, ...]
    arg_params: tuple[str, ...]


def packaged_blueprints() -> Traversable:
    """The blueprints shipped in the package (`isoloop/containers/*.yaml`).

    In a wheel they are package data; in a source checkout `src/isoloop/containers`
    is a symlink to the top-level `containers/`, so both read the same files.
    """
    return resources.files("isoloop").joinpath("containers")


def blueprint_dirs(config_dir: Path | None = None) -> list[Traversable]:
    """Where blueprint names are looked up, first match wins.

    `$ISOLOOP_CONTAINERS` (os.pathsep-separated folders), the config's own
    `containers/` folder, `./containers`, then the blueprints shipped in the package.
    """
    dirs: list[Traversable] = [
        Path(p) for p in os.environ.get("ISOLOOP_CONTAINERS", "").split(os.pathsep) if p
    ]
    if config_dir is not None:
        dirs.append(Path(config_dir) / "containers")
    dirs.append(Path.cwd() / "containers")
    dirs.append(packaged_blueprints())
    return dirs


class Blueprint:
    """A parsed blueprint file; `plan()` resolves it against a run config."""

    __slots__ = ("_classes", "_plans", "_reader", "_refs", "name", "path", "shared", "slots")

    def __init__(
        self,
        name: str,
        path: Path,
        shared: tuple[str, ...],
        slots: tuple[SlotSpec, ...],
        classes: Mapping[str, type] | None = None,
    ):
        self.name = name
        self.path = path
        self.shared = shared
        self.slots = slots
        # Classes given as objects (a notebook's strategy), used instead of importing
        # the slot's class path; still checked against the slot's role.
        self._classes: Mapping[str, type] = dict(classes or {})
        # Plans depend only on the class behind each slot; caching them here (per
        # blueprint object, not per process) keeps signature inspection out of the
        # per-scope cost.
        self._plans: dict[tuple[tuple[str, ...], SlotRoles | None], tuple[SlotPlan, ...]] = {}
        # Every run reads the slots' `@config.` references from its own config: what
        # they name is worked out once here (`_slot_refs`), what they read never kept.
        self._refs: tuple[SlotRefs, ...] | None = None
        self._reader = ConfigReader()

    def __repr__(self) -> str:
        return f"Blueprint({self.name!r}, {str(self.path)!r})"

    def with_classes(self, classes: Mapping[str, type]) -> Blueprint:
        """A copy whose named slots use these class objects instead of importing them."""
        unknown = sorted(set(classes) - set(self.slot_names))
        if unknown:
            raise BlueprintError(f"blueprint {self.path}: no slot(s) {unknown} to fill")
        merged = {**self._classes, **classes}
        return Blueprint(self.name, self.path, self.shared, self.slots, merged)

    @property
    def slot_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.slots)

    def where(self, slot: str) -> str:
        return f"blueprint {self.path}, slot {slot!r}"

    def _slot_refs(self) -> tuple[SlotRefs, ...] | None:
        """Every slot's references, checked once; None while one is malformed (a
        blueprint built in code): the plain path then reports it where it always did."""
        refs = self._refs
        if refs is None:
            try:
                refs = tuple(_slot_refs(spec, self.where(spec.name)) for spec in self.slots)
            except BlueprintError:
                return None
            self._refs = refs
        return refs

    def class_refs(self, config: object) -> tuple[str, ...]:
        """The class path of each slot for `config` (a `@config.` class read from it)."""
        compiled = self._slot_refs()
        if compiled is not None:
            read = self._reader.read
            return tuple(
                s.class_ref
                if s.class_parts is None
                else str(read(s.class_parts, s.class_ref, config, s.where))
                for s in compiled
            )
        refs = []
        for spec in self.slots:
            ref = spec.class_ref
            if ref.startswith(CONFIG_REF):
                ref = str(resolve_config_ref(ref, config, where=self.where(spec.name)))
            refs.append(ref)
        return tuple(refs)

    def plan(self, config: object, roles: SlotRoles | None = None) -> tuple[SlotPlan, ...]:
        """Slot plans in dependency order (a slot comes after every slot it needs).

        Every class is imported and checked (`roles`: the run kind's role table)
        before the plan is returned; nothing is constructed here.
        """
        refs = self.class_refs(config)
        key = (refs, roles)
        cached = self._plans.get(key)
        if cached is None:
            cached = self._build_plan(refs, roles)
            self._plans[key] = cached
        return cached

    def check(
        self, config: object, *, roles: SlotRoles | None, shared: Iterable[str]
    ) -> tuple[SlotPlan, ...]:
        """Everything a scope would check before building a component, building none.

        Shared services against those provided, every class against its slot's
        role, every constructor parameter, every `@config.` argument.
        """
        provided = set(shared)
        missing = [s for s in self.shared if s not in provided]
        if missing:
            raise BlueprintError(
                f"blueprint {self.path}: needs shared services {missing} that this run "
                f"does not provide ({', '.join(sorted(provided)) or 'none'})"
            )
        plans = self.plan(config, roles)
        for spec in self.slots:
            self.resolve_args(spec, config)
        return plans

    def slot_args(self, config: object) -> dict[str, dict[str, Any]]:
        """`resolve_args` of every slot that takes arguments, by slot name."""
        compiled = self._slot_refs()
        if compiled is None:
            return {spec.name: self.resolve_args(spec, config) for spec in self.slots if spec.args}
        args = self._reader.args
        return {s.name: args(s, config) for s in compiled if s.args}

    def resolve_args(self, spec: SlotSpec, config: object) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, raw in spec.args.items():
            if isinstance(raw, str) and raw.startswith(CONFIG_REF):
                out[key] = resolve_config_ref(raw, config, where=self.where(spec.name))
            else:
                out[key] = raw
        return out

    def _build_plan(self, refs: tuple[str, ...], roles: SlotRoles | None) -> tuple[SlotPlan, ...]:
        names = set(self.slot_names)
        plans: dict[str, SlotPlan] = {}
        for spec, ref in zip(self.slots, refs, strict=True):
            where = self.where(spec.name)
            cls = self._classes.get(spec.name) or import_class(ref, where=where)
            check_slot_class(cls, slot=spec.name, where=where, roles=roles, declared=spec.role)
            plans[spec.name] = self._plan_slot(spec, cls, names)
        return _topological(plans, self)

    def _plan_slot(self, spec: SlotSpec, cls: type, names: set[str]) -> SlotPlan:
        where = self.where(spec.name)
        try:
            params = constructor_parameters(cls)
        except (TypeError, ValueError) as exc:
            raise BlueprintError(f"{where}: cannot read the constructor of {cls!r}: {exc}") from (
                None
            )
        unknown_args = set(spec.args) - set(params)
        if unknown_args and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            raise BlueprintError(
                f"{where}: args {sorted(unknown_args)} are not parameters of "
                f"{cls.__qualname__}({', '.join(params)})"
            )
        slot_params, shared_params, run_params, arg_params = [], [], [], list(spec.args)
        for pname, param in params.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or pname in spec.args:
                continue
            if param.kind is param.POSITIONAL_ONLY:
                raise BlueprintError(f"{where}: parameter {pname!r} is positional-only")
            if pname in names and pname != spec.name:
                slot_params.append((pname, pname))
            elif pname in self.shared:
                shared_params.append(pname)
            elif pname in RUN_VALUES:
                run_params.append(pname)
            elif param.default is param.empty:
                raise BlueprintError(
                    f"{where}: {cls.__qualname__} needs {pname!r}, which is no slot, shared "
                    f"service or run value; add it under args or as a slot "
                    f"(slots: {', '.join(sorted(names))}; shared: {', '.join(self.shared)})"
                )
        return SlotPlan(
            name=spec.name,
            cls=cls,
            slot_params=tuple(slot_params),
            shared_params=tuple(shared_params),
            run_params=tuple(run_params),
            arg_params=tuple(arg_params),
        )


def _slot_refs(spec: SlotSpec, where: str) -> SlotRefs:
    """A slot's `@config.` references, checked (a malformed one raises here)."""

    def parts(raw: object) -> tuple[str, ...] | None:
        if isinstance(raw, str) and raw.startswith(CONFIG_REF):
            return check_config_ref(raw, where=where)
        return None

    args = tuple((key, parts(raw), raw) for key, raw in spec.args.items())
    return SlotRefs(spec.name, where, spec.class_ref, parts(spec.class_ref), args)


def _topological(plans: Mapping[str, SlotPlan], bp: Blueprint) -> tuple[SlotPlan, ...]:
    """Kahn's algorithm; ties keep the blueprint's written order so init order is stable."""
    order: list[SlotPlan] = []
    done: set[str] = set()
    pending = list(plans)
    while pending:
        progressed = False
        for name in list(pending):
            deps = {slot for _, slot in plans[name].slot_params}
            if deps <= done:
                order.append(plans[name])
                done.add(name)
                pending.remove(name)
                progressed = True
                break
        if not progressed:
            cycle = ", ".join(
                f"{n} -> {sorted({s for _, s in plans[n].slot_params} - done)}" for n in pending
            )
            raise BlueprintError(f"blueprint {bp.path}: dependency cycle among slots: {cycle}")
    return tuple(order)


def _check_refs(spec: SlotSpec, where: str) -> None:
    """`@config.` references are checked when the file is read, before any is followed."""
    for raw in (spec.class_ref, *spec.args.values()):
        if isinstance(raw, str) and raw.startswith(CONFIG_REF):
            check_config_ref(raw, where=where)


def find_blueprint(name: str, config_dir: Path | None = None) -> Traversable:
    """The file a blueprint name or path stands for (see `load_blueprint` for the order)."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml"):
        # A file of the user's: relative to the config's folder, else to the working folder.
        tried = [candidate]
        if config_dir is not None and not candidate.is_absolute():
            tried.insert(0, Path(config_dir) / candidate)
        for path in tried:
            if path.is_file():
                return path
        raise BlueprintError(
            f"blueprint file {candidate} not found (looked for {', '.join(map(str, tried))})"
        )
    dirs = blueprint_dirs(config_dir)
    for folder in dirs:
        for suffix in (".yaml", ".yml"):
            found = folder.joinpath(f"{name}{suffix}")
            if found.is_file():
                return found
    searched = ", ".join(str(d) for d in dirs)
    raise BlueprintError(f"no blueprint named {name!r} (looked in: {searched})")


def load_blueprint(name_or_path: str | Path, *, config_dir: Path | None = None) -> Blueprint:
    """Parse and check a blueprint by name (`backtest`) or path (`x/y.yaml`).

    `config_dir` is the folder of the config that names the blueprint: its
    `containers/` folder is searched for names, and relative paths resolve there first.
    """
    found = find_blueprint(str(name_or_path), config_dir)
    # Installed packages are plain folders, so this is a real path but for zip imports.
    path = found if isinstance(found, Path) else Path(str(found))
    try:
        raw = load_yaml(found.read_text(encoding="utf-8"), f"blueprint {path}")
    except yaml.YAMLError as exc:
        raise BlueprintError(f"blueprint {path}: invalid YAML: {exc}".replace("\n", " ")) from None
    if not isinstance(raw, Mapping):
        raise BlueprintError(f"blueprint {path}: top level must be a mapping with 'slots'")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise BlueprintError(
            f"blueprint {path}: unknown keys {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}"
        )
    slots_raw = raw.get("slots")
    if not isinstance(slots_raw, Mapping) or not slots_raw:
        raise BlueprintError(f"blueprint {path}: 'slots' must be a non-empty mapping")
    shared_raw = raw.get("shared", []) or []
    if not isinstance(shared_raw, list) or not all(isinstance(s, str) for s in shared_raw):
        raise BlueprintError(f"blueprint {path}: 'shared' must be a list of service names")
    slots = []
    for slot_name, value in slots_raw.items():
        where = f"blueprint {path}, slot {slot_name!r}"
        if not isinstance(slot_name, str) or not slot_name.isidentifier():
            raise BlueprintError(f"{where}: slot names must be identifiers")
        if slot_name in RUN_VALUES or slot_name in shared_raw:
            raise BlueprintError(f"{where}: the name is reserved for a run value or shared service")
        if isinstance(value, str):
            slots.append(SlotSpec(slot_name, value))
            _check_refs(slots[-1], where)
            continue
        if not isinstance(value, Mapping) or "class" not in value:
            raise BlueprintError(f"{where}: give a class path or a mapping with 'class'")
        extra = set(value) - _SLOT_KEYS
        if extra:
            raise BlueprintError(
                f"{where}: unknown keys {sorted(extra)}; allowed: class, args, role"
            )
        args = value.get("args") or {}
        if not isinstance(args, Mapping):
            raise BlueprintError(f"{where}: 'args' must be a mapping")
        role = value.get("role")
        if role is not None and not (isinstance(role, str) and FIELD.fullmatch(role)):
            raise BlueprintError(f"{where}: 'role' must be a role name such as venue")
        spec = SlotSpec(slot_name, str(value["class"]), dict(args), role)
        _check_refs(spec, where)
        slots.append(spec)
    return Blueprint(str(raw.get("name") or path.stem), path, tuple(shared_raw), tuple(slots))
