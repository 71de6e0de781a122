"""Package hygiene: every `__all__` name exists, and no module keeps mutable state.

Principle 1 of the design: no module-level mutable state anywhere in src/ (no
global counters, registries or caches). This test reads every module's AST and
refuses module-level assignments of mutable containers.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import isoloop

SRC = Path(isoloop.__file__).resolve().parent
MUTABLE_CALLS = {
    "list",
    "dict",
    "set",
    "defaultdict",
    "deque",
    "OrderedDict",
    "Counter",
    "bytearray",
}


def modules() -> list[str]:
    return [
        *sorted(
            m.name for m in pkgutil.walk_packages([str(SRC)], prefix="isoloop.") if not m.ispkg
        ),
        "isoloop",
    ]


def test_every_all_name_exists() -> None:
    missing = []
    for name in modules():
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            if not hasattr(module, attr):
                missing.append(f"{name}.{attr}")
    assert missing == []


def _mutable(value: ast.expr) -> bool:
    if isinstance(value, ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp | ast.SetComp):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return name in MUTABLE_CALLS
    return False


def test_no_module_level_mutable_state() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in tree.body:  # module level only, not inside functions or classes
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if names and value is not None and _mutable(value) and names != ["__all__"]:
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {', '.join(names)}")
    assert offenders == [], (
        "module-level mutable containers: use tuples/frozensets/MappingProxyType"
    )
