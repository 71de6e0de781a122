"""Package hygiene: every `__all__` name exists, no module keeps mutable state, and
`import isoloop` stays light.

Principle 1 of the design: no module-level mutable state anywhere in src/ (no
global counters, registries or caches). This test reads every module's AST and
refuses module-level assignments of mutable containers.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

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


# `import isoloop` is light: public names are imported on first use (module __getattr__).
HEAVY = (
    "isoloop.backtest",
    "isoloop.live",
    "isoloop.sweep",
    "isoloop.scope",
    "pandas",
    "optuna",
    "plotly",
    "dask",
    "distributed",
    "ray",
)


def _loaded_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(proc.stdout.splitlines()[-1]))  # after what the statement printed


def _heavy(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY))


def test_import_isoloop_imports_no_heavy_module() -> None:
    loaded = _loaded_after("import isoloop")
    assert _heavy(loaded) == []
    assert sorted(m for m in loaded if m.startswith("isoloop")) == ["isoloop", "isoloop.errors"]


def test_cli_import_imports_no_heavy_module() -> None:
    # `isoloop --help` and `--version` load the CLI only; each command imports its own part.
    assert _heavy(_loaded_after("import isoloop.cli")) == []


def test_a_live_control_action_imports_no_heavy_module(tmp_path: Path) -> None:
    # `isoloop live status` against nothing: start-up, one refused connection, exit 1,
    # and none of the manager's stack (pandas, the engine) on the way.
    token = tmp_path / "token"
    token.write_text("t" * 32)
    loaded = _loaded_after(
        "from isoloop.cli import main\n"
        f"code = main(['live', 'status', '--url', 'http://127.0.0.1:9', '--token-file', {str(token)!r}])\n"
        "assert code == 1, code"
    )
    # The live package and its HTTP client only: `isoloop.live` itself loads lazily.
    client = {"isoloop.live", "isoloop.live.control", "isoloop.live.control.cli"}
    client.add("isoloop.live.control.client")
    assert [m for m in _heavy(loaded) if m not in client] == []
    assert "isoloop.engine" not in loaded


def test_validate_imports_what_it_checks_and_nothing_of_a_run() -> None:
    # `isoloop validate` reads the data (pandas) and checks the strategy class (the
    # engine), but builds no run: no run logger, structlog, rich, report, sweep or live.
    config = Path(__file__).parents[2] / "configs" / "goog_sma.yaml"
    loaded = _loaded_after(
        "from isoloop.cli import main\n"
        f"code = main(['validate', {str(config)!r}])\n"
        "assert code == 0, code"
    )
    assert "pandas" in loaded and "isoloop.engine.strategy" in loaded
    unwanted = ("structlog", "rich.traceback", "plotly", "optuna", "ray", "dask", "ccxt")
    assert sorted(m for m in loaded if m.split(".")[0] in unwanted or m in unwanted) == []
    run_parts = ("isoloop.logging", "isoloop.scope.coordinator", "isoloop.backtest.run")
    assert (
        sorted(
            m
            for m in loaded
            if m in run_parts
            or m.startswith(("isoloop.sweep", "isoloop.live", "isoloop.results.report"))
        )
        == []
    )


def test_public_names_resolve_to_their_modules() -> None:
    from isoloop import LiveTradingManager, OptimizationExecutor, run_backtest, run_sweep
    from isoloop.backtest.run import run_backtest as real_run_backtest
    from isoloop.live import LiveTradingManager as RealManager
    from isoloop.sweep import runner

    # run_backtest/run_sweep dispatch a DataFrame + Strategy class to the notebook API and
    # everything else to the config runners (tests/integration/test_run_api_frames.py).
    assert run_sweep is isoloop.run_sweep and run_sweep.__module__ == "isoloop"
    assert OptimizationExecutor is runner.OptimizationExecutor
    assert isoloop.SweepResult is runner.SweepResult
    assert LiveTradingManager is RealManager
    assert run_backtest is isoloop.run_backtest and real_run_backtest.__module__.startswith(
        "isoloop.backtest"
    )
    assert set(isoloop.__all__) <= set(dir(isoloop))
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = isoloop.no_such_name
