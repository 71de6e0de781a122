"""A safe expression language for sweep constraints (`fast < slow and fast % 5 == 0`).

The text is parsed with `ast.parse(mode="eval")` and evaluated by walking a
whitelist of node types; nothing is ever passed to `eval`/`exec`, and no
attribute is ever looked up on a Python object. Names bind to the sweep's
parameters only; a dotted parameter key such as `strategy.params.fast` may be
written as is (it is matched as a whole key, never resolved as an attribute).
Arithmetic is limited to numbers (no string or tuple repetition) and `**` is
not part of the language, so an expression cannot allocate unbounded memory.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from isoloop.errors import ConfigError

__all__ = ["MAX_CONSTRAINT_LENGTH", "Constraint", "compile_constraint"]

MAX_CONSTRAINT_LENGTH = 500

_BINOPS: Mapping[type[ast.operator], Callable[[Any, Any], Any]] = MappingProxyType(
    {
        ast.Add: operator.add,
        ast.Sub: operator.sub,
        ast.Mult: operator.mul,
        ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv,
        ast.Mod: operator.mod,
    }
)
_CMPOPS: Mapping[type[ast.cmpop], Callable[[Any, Any], bool]] = MappingProxyType(
    {
        ast.Eq: operator.eq,
        ast.NotEq: operator.ne,
        ast.Lt: operator.lt,
        ast.LtE: operator.le,
        ast.Gt: operator.gt,
        ast.GtE: operator.ge,
        ast.In: lambda a, b: a in b,
        ast.NotIn: lambda a, b: a not in b,
    }
)
_FORBIDDEN: Mapping[type[ast.AST], str] = MappingProxyType(
    {
        ast.Call: "function calls",
        ast.Attribute: "attribute access",
        ast.Subscript: "subscripts",
        ast.Lambda: "lambda",
        ast.ListComp: "comprehensions",
        ast.SetComp: "comprehensions",
        ast.DictComp: "comprehensions",
        ast.GeneratorExp: "generator expressions",
        ast.JoinedStr: "f-strings",
        ast.FormattedValue: "f-strings",
        ast.NamedExpr: "assignment expressions (:=)",
        ast.Starred: "starred expressions",
        ast.IfExp: "conditional expressions (x if c else y)",
        ast.Await: "await",
        ast.Yield: "yield",
        ast.YieldFrom: "yield",
        ast.Dict: "dict literals",
        ast.Set: "set literals",
        ast.Slice: "slices",
    }
)
_OP_NAMES: Mapping[type[ast.AST], str] = MappingProxyType(
    {
        ast.Pow: "the power operator **",
        ast.LShift: "bit shifts",
        ast.RShift: "bit shifts",
        ast.BitAnd: "bitwise operators",
        ast.BitOr: "bitwise operators",
        ast.BitXor: "bitwise operators",
        ast.MatMult: "the @ operator",
        ast.Invert: "the ~ operator",
        ast.Is: "'is' comparisons",
        ast.IsNot: "'is not' comparisons",
    }
)


@dataclass(frozen=True, slots=True)
class Constraint:
    """A compiled constraint: call it with a parameter mapping to get True/False."""

    source: str
    names: tuple[str, ...]
    _tree: ast.expr

    def __call__(self, params: Mapping[str, Any]) -> bool:
        try:
            value = _eval(self._tree, params)
        except ZeroDivisionError:
            raise ConfigError(
                f"constraint {self.source!r} divides by zero for {dict(params)!r}; "
                "guard the divisor (e.g. `b != 0 and a / b > 1`)"
            ) from None
        except TypeError as exc:
            raise ConfigError(
                f"constraint {self.source!r} cannot be evaluated for {dict(params)!r}: {exc}"
            ) from None
        return bool(value)


def compile_constraint(source: str, known_names: Iterable[str]) -> Constraint:
    """Parse and check `source` once; raises `ConfigError` naming the offending construct."""
    known = tuple(known_names)
    if len(source) > MAX_CONSTRAINT_LENGTH:
        raise ConfigError(
            f"constraint is {len(source)} characters long (limit {MAX_CONSTRAINT_LENGTH}); "
            "simplify it"
        )
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        msg = getattr(exc, "msg", None) or str(exc)
        raise ConfigError(f"constraint {source!r} is not a valid expression: {msg}") from None
    used: list[str] = []
    _check(tree.body, source, set(known), used)
    return Constraint(source=source, names=tuple(dict.fromkeys(used)), _tree=tree.body)


def _reject(source: str, what: str) -> ConfigError:
    return ConfigError(
        f"constraint {source!r}: {what} not allowed; use parameter names, "
        "numbers, strings, + - * / // %, comparisons, and/or/not, tuples for 'in'"
    )


def _dotted(node: ast.expr) -> str | None:
    """`a.b.c` as a string when it is a pure chain of names, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _check_name(name: str, source: str, known: set[str], used: list[str]) -> None:
    if any(part.startswith("__") or part.endswith("__") for part in name.split(".")):
        raise _reject(source, f"dunder name {name!r}")
    if name not in known:
        listing = ", ".join(sorted(known)) or "none"
        raise ConfigError(
            f"constraint {source!r} uses unknown name {name!r}; known parameters: {listing}"
        )
    used.append(name)


def _check(node: ast.AST, source: str, known: set[str], used: list[str]) -> None:
    if isinstance(node, ast.Name):
        _check_name(node.id, source, known, used)
        return
    if isinstance(node, ast.Attribute):
        dotted = _dotted(node)
        if dotted is not None and dotted in known:
            _check_name(dotted, source, known, used)
            return
        if dotted is not None and any(
            p.startswith("__") or p.endswith("__") for p in dotted.split(".")
        ):
            raise _reject(source, f"dunder name {dotted!r}")
        raise _reject(source, f"attribute access ({ast.unparse(node)!r})")
    for forbidden, what in _FORBIDDEN.items():
        if isinstance(node, forbidden):
            raise _reject(source, f"{what} ({ast.unparse(node)!r})")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool | int | float | str):
            return
        raise _reject(source, f"constant {node.value!r}")
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise _reject(source, _OP_NAMES.get(type(node.op), type(node.op).__name__))
        _check(node.left, source, known, used)
        _check(node.right, source, known, used)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            raise _reject(source, _OP_NAMES.get(type(node.op), type(node.op).__name__))
        _check(node.operand, source, known, used)
        return
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, source, known, used)
        return
    if isinstance(node, ast.Compare):
        _check(node.left, source, known, used)
        for op, right in zip(node.ops, node.comparators, strict=True):
            if type(op) not in _CMPOPS:
                raise _reject(source, _OP_NAMES.get(type(op), type(op).__name__))
            if isinstance(right, ast.Tuple | ast.List):
                if not isinstance(op, ast.In | ast.NotIn):
                    raise _reject(source, "tuple/list literals outside 'in'")
                for elt in right.elts:
                    _check(elt, source, known, used)
            else:
                _check(right, source, known, used)
        return
    if isinstance(node, ast.Tuple | ast.List):
        raise _reject(source, "tuple/list literals outside 'in'")
    raise _reject(source, f"{type(node).__name__} expressions")


def _number(value: Any, node: ast.AST) -> Any:
    # Only numbers take part in arithmetic: 'x' * 10**9 or (1,) * n cannot blow up memory.
    if isinstance(value, bool | int | float):
        return value
    raise TypeError(f"{ast.unparse(node)!r} is {type(value).__name__}, arithmetic needs numbers")


def _eval(node: ast.expr, params: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name | ast.Attribute):
        name = _dotted(node)
        assert name is not None  # guaranteed by _check
        return params[name]
    if isinstance(node, ast.BinOp):
        a = _number(_eval(node.left, params), node.left)
        b = _number(_eval(node.right, params), node.right)
        return _BINOPS[type(node.op)](a, b)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, params)
        if isinstance(node.op, ast.Not):
            return not operand
        operand = _number(operand, node.operand)
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            result: Any = True
            for value in node.values:
                result = _eval(value, params)
                if not result:
                    return result
            return result
        result = False
        for value in node.values:
            result = _eval(value, params)
            if result:
                return result
        return result
    if isinstance(node, ast.Compare):
        left = _eval(node.left, params)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(right_node, ast.Tuple | ast.List):
                right: Any = tuple(_eval(e, params) for e in right_node.elts)
            else:
                right = _eval(right_node, params)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True
    raise TypeError(f"unsupported node {type(node).__name__}")  # pragma: no cover - _check
