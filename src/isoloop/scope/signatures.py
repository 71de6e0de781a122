"""Constructor parameters of the classes a blueprint wires, read once per blueprint plan.

`inspect.signature` of a class compiled by mypyc parses its text signature
through the tokenizer and copies `sys.modules` on every call (≈ 140 µs a class
here): a fresh blueprint's plan paid that for every compiled slot class. The
text signature of such a class is plain Python syntax, so it is read here with
one `ast.parse`; anything this does not read exactly as `inspect` would (another
metaclass, a Python `__init__` or `__new__` in the way, markers, annotations, a
default that is not a literal) is left to `inspect`.
"""

from __future__ import annotations

import ast
import importlib.machinery
import inspect
import sys
import types
from collections.abc import Mapping

__all__ = ["constructor_parameters"]

_P = inspect.Parameter
# What `inspect` treats as "not a user-defined constructor" (then it reads the text signature).
_NOT_USER_DEFINED = (
    types.WrapperDescriptorType,
    types.MethodWrapperType,
    types.ClassMethodDescriptorType,
    types.BuiltinFunctionType,
)


def constructor_parameters(cls: type) -> Mapping[str, inspect.Parameter]:
    """The parameters of `cls`'s constructor, as a blueprint wires them.

    A class compiled by mypyc (tools/compile.py) reports every parameter
    positional-only in its text signature, yet its constructor takes them by
    keyword like the Python class it was compiled from: those read as ordinary
    parameters. A Python class's positional-only parameters stay what they are.
    """
    module = sys.modules.get(cls.__module__)
    origin = str(getattr(module, "__file__", "") or "")
    if not origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
        return inspect.signature(cls).parameters
    read = text_signature_parameters(cls)
    params = inspect.signature(cls).parameters if read is None else read
    ordinary = _P.POSITIONAL_OR_KEYWORD
    return {
        name: p.replace(kind=ordinary) if p.kind is p.POSITIONAL_ONLY else p
        for name, p in params.items()
    }


def text_signature_parameters(cls: type) -> dict[str, inspect.Parameter] | None:
    """`inspect.signature(cls).parameters` read from the class's own text signature, or
    None where `inspect` would do anything but read it as plain Python syntax."""
    if type(cls) is not type:
        return None
    text = getattr(cls, "__text_signature__", None)
    if not isinstance(text, str) or not text.startswith("(") or "$" in text:
        return None
    if not all(isinstance(getattr(cls, m), _NOT_USER_DEFINED) for m in ("__init__", "__new__")):
        return None
    try:
        tree = ast.parse(f"def f{text}: pass")
    except SyntaxError:
        return None
    func = tree.body[0]
    if not isinstance(func, ast.FunctionDef):
        return None
    a = func.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
    defaults += a.defaults
    entries: list[tuple[ast.arg, inspect._ParameterKind, ast.expr | None]] = [
        (arg, _P.POSITIONAL_ONLY if i < len(a.posonlyargs) else _P.POSITIONAL_OR_KEYWORD, d)
        for i, (arg, d) in enumerate(zip(positional, defaults, strict=True))
    ]
    if a.vararg is not None:
        entries.append((a.vararg, _P.VAR_POSITIONAL, None))
    entries += [
        (arg, _P.KEYWORD_ONLY, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
    ]
    if a.kwarg is not None:
        entries.append((a.kwarg, _P.VAR_KEYWORD, None))
    params: dict[str, inspect.Parameter] = {}
    for arg, kind, default in entries:
        if arg.annotation is not None:
            return None
        if default is None:
            params[arg.arg] = _P(arg.arg, kind)
        elif isinstance(default, ast.Constant):
            params[arg.arg] = _P(arg.arg, kind, default=default.value)
        else:
            return None
    return params
