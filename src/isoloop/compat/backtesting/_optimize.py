"""backtesting.py's `optimize(...)` arguments as an isoloop sweep's settings.

A sweep's trials may run in other processes and its manifest must say what was
run, so a constraint is a safe expression over the parameter names, not a
Python function. backtesting.py users write `constraint=lambda p: p.n1 < p.n2`;
that function's source is read and turned into the expression `n1 < n2` (any
function whose body is one expression over `p.<name>` works), and anything
else gets a clear error instead of being run blind.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

import pandas as pd

from isoloop.errors import ConfigError
from isoloop.results import BACKTESTING_STATS_LABELS, STATS_KEYS, backtesting_stats

__all__ = ["constraint_expression", "objective_key", "optimize_settings", "scores"]


def objective_key(maximize: str) -> str:
    """A backtesting.py label ("SQN", "Return [%]") or an isoloop stats key → the stats key."""
    if maximize in STATS_KEYS:
        return maximize
    for label, key in BACKTESTING_STATS_LABELS:
        if maximize == label and key in STATS_KEYS:
            return key
    known = ", ".join(repr(label) for label, key in BACKTESTING_STATS_LABELS if key in STATS_KEYS)
    raise ConfigError(f"Backtest.optimize: maximize={maximize!r} is not a statistic; use {known}")


def _lambda_bodies(source: str) -> list[tuple[str, ast.expr]]:
    """(argument name, body) of every one-argument lambda or one-return def in `source`."""
    found: list[tuple[str, ast.expr]] = []
    text = textwrap.dedent(source)
    try:
        trees: list[ast.AST] = [ast.parse(text)]
    except SyntaxError:
        # A lambda inside a call spread over lines: parse from each `lambda` on, trimming
        # trailing characters (the rest of the call) until it is one expression.
        trees = []
        start = text.find("lambda")
        while start >= 0:
            piece = text[start:].rstrip()
            for end in range(len(piece), 6, -1):
                try:
                    trees.append(ast.parse(piece[:end], mode="eval"))
                    break
                except SyntaxError:
                    continue
            start = text.find("lambda", start + 1)
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Lambda) and len(node.args.args) == 1:
                found.append((node.args.args[0].arg, node.body))
            elif (
                isinstance(node, ast.FunctionDef)
                and len(node.args.args) == 1
                and len(node.body) == 1
                and isinstance(node.body[0], ast.Return)
                and node.body[0].value is not None
            ):
                found.append((node.args.args[0].arg, node.body[0].value))
    return found


class _Params(ast.NodeTransformer):
    """`p.n1` / `p["n1"]` → `n1`; any other use of `p` is refused."""

    def __init__(self, arg: str) -> None:
        self.arg = arg

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == self.arg:
            return ast.Name(id=node.attr, ctx=ast.Load())
        return self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        key = node.slice
        if (
            isinstance(node.value, ast.Name)
            and node.value.id == self.arg
            and isinstance(key, ast.Constant)
            and isinstance(key.value, str)
        ):
            return ast.Name(id=key.value, ctx=ast.Load())
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == self.arg:
            raise ValueError(node.id)
        return node


def constraint_expression(constraint: str | Callable[..., Any]) -> str:
    """The sweep constraint for `constraint` (an expression string, or a function of params)."""
    if isinstance(constraint, str):
        return constraint
    how = (
        "write it as one expression over the parameters, e.g. lambda p: p.n1 < p.n2, "
        'or pass isoloop\'s expression string constraint="n1 < n2"'
    )
    try:
        source = inspect.getsource(constraint)
    except (OSError, TypeError):
        raise ConfigError(
            f"Backtest.optimize: constraint {constraint!r}: its source cannot be read; {how}"
        ) from None
    expressions = set()
    for arg, body in _lambda_bodies(source):
        try:
            expressions.add(ast.unparse(_Params(arg).visit(body)))
        except ValueError:
            continue
    if len(expressions) != 1:
        raise ConfigError(
            f"Backtest.optimize: constraint {constraint!r} is not one expression over "
            f"p.<parameter> (a sweep runs it as an expression, not as Python code); {how}"
        )
    return expressions.pop()


def _values(name: str, values: Any) -> list[Any]:
    """A parameter's values as plain Python scalars (a range, list, tuple or NumPy array)."""
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise ConfigError(
            f"Backtest.optimize: {name}={values!r}: give the values to try "
            f"({name}=[5, 10, 15] or {name}=range(5, 30, 5))"
        )
    return [v.item() if hasattr(v, "item") else v for v in values]


def optimize_settings(
    space: dict[str, Any],
    *,
    maximize: str | Callable[..., Any],
    method: str,
    max_tries: int | float | None,
    constraint: str | Callable[..., Any] | None,
    random_state: int | None,
) -> tuple[dict[str, Any], str | None]:
    """Keyword arguments for `isoloop.Backtest.optimize` and the objective's stats key."""
    if not space:
        raise ConfigError("Backtest.optimize: give at least one parameter to vary (n1=[5, 10])")
    if callable(maximize):
        if method != "grid":
            raise ConfigError(
                "Backtest.optimize: maximize=<function> works with method='grid' (every "
                "run is scored here after the sweep); a model-based search needs a "
                "statistic's label"
            )
        metric = None
    else:
        metric = objective_key(maximize)
    search: dict[str, Any]
    if method == "grid":
        search = {"method": "grid"}
        if max_tries is not None:
            search["max_tries"] = max_tries
            search["seed"] = 0 if random_state is None else int(random_state)
    elif method == "sambo":
        # A model-based search over the same space: isoloop's Optuna search.
        trials = 200 if max_tries is None else max_tries
        if isinstance(trials, float) and trials < 1:
            raise ConfigError(
                "Backtest.optimize: method='sambo' needs max_tries as a number of trials"
            )
        seed = 0 if random_state is None else int(random_state)
        search = {"method": "optuna", "trials": int(trials), "seed": seed}
    else:
        raise ConfigError(f"Backtest.optimize: method={method!r}: use 'grid' or 'sambo'")
    kwargs: dict[str, Any] = {
        "space": {k: _values(k, v) for k, v in space.items()},
        # With a function the sweep's own objective only orders its summary.
        "objective": {"metric": metric or "sqn", "direction": "maximize"},
        "search": search,
    }
    if constraint is not None:
        kwargs["constraint"] = constraint_expression(constraint)
    return kwargs, metric


def scores(
    trials: pd.DataFrame,
    names: list[str],
    maximize: str | Callable[[pd.Series], float],
    metric: str | None,
) -> pd.Series:
    """backtesting.py's heatmap: each finished trial's score, by its parameters, in trial
    (grid) order; NaN for a run without trades. A `maximize` function gets the run's
    stats under backtesting.py's labels."""
    if "status" in trials.columns:
        trials = trials[trials["status"] == "ok"]
    index = pd.MultiIndex.from_frame(trials[[f"param.{k}" for k in names]].set_axis(names, axis=1))
    values: list[float] = []
    for _, row in trials.iterrows():
        stats = {k: row[k] for k in STATS_KEYS if k in row.index}
        if not stats.get("trades"):
            values.append(float("nan"))
        elif callable(maximize):
            values.append(float(maximize(backtesting_stats(stats))))
        else:
            values.append(float(stats[metric or "sqn"]))
    label = getattr(maximize, "__name__", None) if callable(maximize) else maximize
    return pd.Series(values, index=index, name=label, dtype="float64")
