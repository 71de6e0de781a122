"""Constructor parameters read from a compiled class's text signature are exactly the
ones `inspect.signature` gives (kinds, names, defaults), for every class a shipped
blueprint or a compiled isoloop module holds."""

from __future__ import annotations

import importlib
import importlib.machinery
import inspect
import pkgutil
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

import isoloop
from isoloop.errors import BlueprintError
from isoloop.scope.blueprint import import_class, load_blueprint, packaged_blueprints
from isoloop.scope.signatures import constructor_parameters, text_signature_parameters

SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def compiled(cls: type) -> bool:
    module = sys.modules.get(cls.__module__)
    return str(getattr(module, "__file__", "") or "").endswith(SUFFIXES)


def as_inspect_wires(cls: type) -> Mapping[str, inspect.Parameter]:
    """What `constructor_parameters` returned before it read text signatures itself."""
    params = inspect.signature(cls).parameters
    if not compiled(cls):
        return params
    ordinary = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return {
        n: p.replace(kind=ordinary) if p.kind is p.POSITIONAL_ONLY else p for n, p in params.items()
    }


def blueprint_classes() -> list[type]:
    found: list[type] = []
    for entry in packaged_blueprints().iterdir():
        if not entry.name.endswith(".yaml"):
            continue
        bp = load_blueprint(Path(str(entry)))
        for spec in bp.slots:
            ref = spec.class_ref
            if ref.startswith("@config."):
                ref = "isoloop.examples.sma_cross:SmaCross"
            try:
                found.append(import_class(ref, where="test"))
            except BlueprintError:  # an optional dependency (a live broker) not installed
                continue
    return found


def compiled_module_classes() -> list[type]:
    found: list[type] = []
    for info in pkgutil.walk_packages(isoloop.__path__, "isoloop."):
        spec = importlib.util.find_spec(info.name)
        if spec is None or not str(spec.origin or "").endswith(SUFFIXES):
            continue
        module = importlib.import_module(info.name)
        found += [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type) and obj.__module__ == info.name
        ]
    return found


CLASSES = sorted(
    {*blueprint_classes(), *compiled_module_classes()},
    key=lambda c: f"{c.__module__}:{c.__qualname__}",
)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__}:{c.__qualname__}")
def test_read_parameters_are_inspects(cls: type) -> None:
    try:
        expected = inspect.signature(cls)
    except (TypeError, ValueError):
        assert text_signature_parameters(cls) is None or not compiled(cls)
        return
    read = text_signature_parameters(cls)
    if read is not None:
        assert list(read.items()) == list(expected.parameters.items())
        assert [p.default for p in read.values()] == [
            p.default for p in expected.parameters.values()
        ]
    assert list(constructor_parameters(cls).items()) == list(as_inspect_wires(cls).items())


def test_the_backtest_blueprints_compiled_classes_are_read_without_inspect() -> None:
    bp = load_blueprint("backtest")
    classes = [import_class(s.class_ref, where="t") for s in bp.slots if "@" not in s.class_ref]
    read = [c for c in classes if compiled(c)]
    if not read:
        pytest.skip("the engine modules are not compiled in this tree")
    for cls in read:
        assert text_signature_parameters(cls) is not None, cls


def test_what_inspect_must_read_is_left_to_it() -> None:
    class Plain:  # a Python class: its own __init__ decides
        def __init__(self, a: int, b: str = "x") -> None: ...

    assert text_signature_parameters(Plain) is None
    assert list(constructor_parameters(Plain)) == ["a", "b"]
    assert text_signature_parameters(dict) is None  # "$" markers, builtin __init__ text
