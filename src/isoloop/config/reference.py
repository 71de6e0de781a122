"""Render pydantic config models as Markdown reference tables.

The config reference (docs/config-reference.md) is generated, never written by
hand: every key's type, default, bounds and description come from the models
themselves (`Field(description=...)`, class docstrings), so the document cannot
drift from what the loader accepts. This module knows nothing of sweeps, live
configs or blueprints (the config layer imports nothing above it); the page
that composes them all is `isoloop.reference` (`make docs`).
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = [
    "FieldRow",
    "field_rows",
    "format_value",
    "key_paths",
    "model_anchor",
    "render_model",
    "where_text",
]

# pydantic's constraint metadata (annotated-types' Gt, Ge, ...) by class name: that
# package is pydantic's dependency, not ours, so it is not imported here.
_BOUNDS: tuple[tuple[str, str, str], ...] = (
    ("Gt", "gt", "> {}"),
    ("Ge", "ge", "≥ {}"),
    ("Lt", "lt", "< {}"),
    ("Le", "le", "≤ {}"),
    ("MinLen", "min_length", "length ≥ {}"),
    ("MaxLen", "max_length", "length ≤ {}"),
)


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One key of a model as the reference shows it (Markdown cell text)."""

    key: str
    type: str
    default: str
    bounds: str
    description: str


def model_anchor(model: type[BaseModel]) -> str:
    """The anchor of a model's section (Markdown's slug of a `### ModelName` heading)."""
    return model.__name__.lower()


def _link(model: type[BaseModel]) -> str:
    return f"[{model.__name__}](#{model_anchor(model)})"


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The bare type of `Annotated[T, ...]` and the metadata it carried."""
    metadata: list[Any] = []
    while typing.get_origin(annotation) is typing.Annotated:
        args = typing.get_args(annotation)
        annotation, metadata = args[0], [*metadata, *args[1:]]
    return annotation, metadata


def _members(annotation: Any) -> tuple[Any, ...]:
    """The alternatives of a union (a one-tuple for anything else)."""
    bare, _ = _unwrap(annotation)
    if typing.get_origin(bare) in (typing.Union, types.UnionType):
        return tuple(typing.get_args(bare))
    return (annotation,)


def _type_name(annotation: Any) -> str:
    bare, _ = _unwrap(annotation)
    origin = typing.get_origin(bare)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(bare))
    if origin is typing.Literal:
        kinds = sorted({type(a).__name__ for a in typing.get_args(bare)})
        return " or ".join(kinds)
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(bare))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if bare is type(None):
        return "null"
    if isinstance(bare, type) and issubclass(bare, BaseModel):
        return _link(bare)
    if bare is typing.Any:
        return "any"
    return str(getattr(bare, "__name__", bare))


def format_value(value: Any) -> str:
    """A value as it is written in a YAML config (flow style, no Python reprs)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, BaseModel):
        return format_value(value.model_dump(mode="json", exclude_defaults=True, by_alias=True))
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "**required**"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        changed = value.model_dump(mode="json", exclude_defaults=True, by_alias=True)
        if not changed:
            return f"see {_link(type(value))}"
        return f"`{format_value(changed)}`, the rest as in {_link(type(value))}"
    return f"`{format_value(value)}`"


def _bound_text(metadata: Sequence[Any]) -> list[str]:
    parts: list[str] = []
    for item in metadata:
        for kind, attr, template in _BOUNDS:
            if type(item).__name__ == kind and hasattr(item, attr):
                parts.append(template.format(getattr(item, attr)))
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):
            parts.append(f"matches `{pattern}`")
        # Field(...) inside Annotated lands as a FieldInfo carrying its own metadata.
        if isinstance(item, FieldInfo):
            parts.extend(_bound_text(item.metadata))
    return parts


def _bounds(field: FieldInfo) -> str:
    """Bounds written on the field and on each alternative of its type, and Literal choices."""
    own = _bound_text(field.metadata)
    parts = [", ".join(own)] if own else []
    members = [m for m in _members(field.annotation) if m is not type(None)]
    for member in members:
        bare, metadata = _unwrap(member)
        if typing.get_origin(bare) is typing.Literal:
            choices = ", ".join(f"`{format_value(a)}`" for a in typing.get_args(bare))
            parts.append(f"one of {choices}")
        inner = _bound_text(metadata)
        if inner:
            # Name the alternative only when there is more than one to tell apart.
            prefix = f"{_type_name(bare)}: " if len(members) > 1 else ""
            parts.append(prefix + ", ".join(inner))
    return "; ".join(parts)


def _cell(text: str) -> str:
    # A cell is one line and a bare `|` would end it.
    return re.sub(r"\s+", " ", text).strip().replace("|", "\\|")


def field_rows(model: type[BaseModel]) -> list[FieldRow]:
    """Every key of `model`, in declaration order, as written in a config file."""
    rows = []
    for name, field in model.model_fields.items():
        rows.append(
            FieldRow(
                key=field.alias or name,
                type=_cell(_type_name(field.annotation)),
                default=_cell(_default(field)),
                bounds=_cell(_bounds(field)),
                description=_cell(field.description or ""),
            )
        )
    return rows


def _child_models(annotation: Any, path: str) -> list[tuple[type[BaseModel], str]]:
    """Models reachable from a field at `path`: `a.b`, `a[]` (list items), `a.<name>` (map)."""
    bare, _ = _unwrap(annotation)
    if isinstance(bare, type) and issubclass(bare, BaseModel):
        return [(bare, path)]
    origin = typing.get_origin(bare)
    args = typing.get_args(bare)
    if origin in (list, tuple, set, frozenset):
        return [found for arg in args for found in _child_models(arg, f"{path}[]")]
    if origin is dict and len(args) == 2:
        return _child_models(args[1], f"{path}.<name>")
    return [found for arg in args for found in _child_models(arg, path)]


def key_paths(root: type[BaseModel], prefix: str = "") -> dict[type[BaseModel], list[str]]:
    """Every model under `root` (root first, then depth first in field order) and the
    dotted paths where its keys sit in a config file (`""` is the top level)."""
    found: dict[type[BaseModel], list[str]] = {}

    def visit(model: type[BaseModel], path: str) -> None:
        seen = model in found
        paths = found.setdefault(model, [])
        if path not in paths:
            paths.append(path)
        if seen:
            return
        for name, field in model.model_fields.items():
            key = field.alias or name
            child = f"{path}.{key}" if path else key
            for sub, sub_path in _child_models(field.annotation, child):
                visit(sub, sub_path)

    visit(root, prefix)
    return found


def where_text(paths: Sequence[str]) -> str:
    """`a.b`, `c[]` as prose; the empty path is the top level of the file."""
    return ", ".join("the top level of the file" if not p else f"`{p}`" for p in paths)


def render_model(model: type[BaseModel], where: str, level: int = 3) -> str:
    """A model's section: heading, docstring, where its keys go (`where`, a sentence),
    and one row per key."""
    lines = [f"{'#' * level} {model.__name__}", ""]
    doc = model.__dict__.get("__doc__")
    if doc:
        lines += [inspect.cleandoc(doc), ""]
    lines += [where, ""]
    lines.append("| key | type | default | bounds / choices | description |")
    lines.append("|---|---|---|---|---|")
    for row in field_rows(model):
        lines.append(
            f"| `{row.key}` | {row.type} | {row.default} | {row.bounds} | {row.description} |"
        )
    return "\n".join(lines) + "\n"
