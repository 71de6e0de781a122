"""Render the config reference (docs/config-reference.md) from the pydantic models.

The document is generated, and a test checks the committed file equals this
output, so the reference cannot drift from the code.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from isoloop.config.models import RunConfig

__all__ = ["render_reference"]

_HEADER = """# Config reference

Generated from `isoloop.config.models` by `make docs` (`python -m isoloop.config.reference`);
a test fails when this file and the models disagree. Unknown keys are rejected everywhere.
Override any key from the command line with `--set dotted.key=value` (the value is parsed as
YAML, so `--set strategy.params.fast=12` is an int and `--set venue.fill.on=close` a string).
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return "`" + repr(field.default_factory()) + "`"  # type: ignore[call-arg]
    if field.default is PydanticUndefined:
        return "**required**"
    if isinstance(field.default, BaseModel):
        return "see section"
    return f"`{field.default!r}`"


def _constraints(field: FieldInfo) -> str:
    parts = [str(m) for m in field.metadata]
    return ", ".join(parts)


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for field in model.model_fields.values():
            for candidate in _walk(field.annotation):
                visit(candidate)

    visit(root)
    return seen


def _walk(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out.extend(_walk(arg))
    return out


def render_reference() -> str:
    lines = [_HEADER]
    for model in _models(RunConfig):
        lines.append(f"## {model.__name__}\n")
        doc = (model.__doc__ or "").strip().splitlines()
        if doc:
            lines.append(doc[0] + "\n")
        lines.append("| key | type | default | constraints |")
        lines.append("|---|---|---|---|")
        for name, field in model.model_fields.items():
            key = field.alias or name
            lines.append(
                f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | "
                f"{_constraints(field)} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_reference(), end="")
