"""The mypyc-compiled hot path and the pure-Python sources give the same runs.

`make install` compiles the per-order modules (tools/compile.py); the .py files
stay the source of truth and the fallback. Every scenario of the parity suite —
native strategies and the backtesting.py compat layer — runs in a subprocess
twice: once as installed (the extensions loaded) and once from a copy of the
sources without them, and each run's digest, order-list hash, final equity and
equity curve must be equal.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
COMPILE_TOOL = ROOT / "tools" / "compile.py"

pytestmark = pytest.mark.compiled


def _compiled_modules() -> tuple[str, ...]:
    """tools/compile.py's MODULES: every one must load compiled as installed."""
    spec = importlib.util.spec_from_file_location("isoloop_compile_tool", COMPILE_TOOL)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    modules: tuple[str, ...] = tool.MODULES
    return modules


def _digests(extra_path: Path | None) -> dict[str, Any]:
    env = dict(os.environ)
    # A copy of the sources goes first: it shadows the installed (editable) package.
    path = ([str(extra_path)] if extra_path else []) + [str(TESTS)]
    env["PYTHONPATH"] = os.pathsep.join(path)
    proc = subprocess.run(
        [sys.executable, "-m", "support.scenario_digests", *_compiled_modules()],
        cwd=TESTS,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_compiled_modules_are_built_from_the_current_sources() -> None:
    proc = subprocess.run(
        [sys.executable, str(COMPILE_TOOL), "--check"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def test_compiled_and_pure_python_paths_give_identical_digests(tmp_path: Path) -> None:
    pure_src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "isoloop",
        pure_src / "isoloop",
        ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"),
    )
    compiled = _digests(None)
    pure = _digests(pure_src)

    not_compiled = [m for m, f in compiled["loaded"].items() if not f.endswith((".so", ".pyd"))]
    assert not not_compiled, (
        f"{not_compiled} ran as Python: the hot path is not compiled (run `make install`)"
    )
    assert all(
        Path(f).is_relative_to(pure_src) and f.endswith(".py") for f in pure["loaded"].values()
    ), pure["loaded"]
    assert len(compiled["runs"]) >= 50, sorted(compiled["runs"])
    differing = sorted(k for k in compiled["runs"] if compiled["runs"][k] != pure["runs"].get(k))
    assert not differing, f"compiled and pure-Python runs differ: {differing}"
    assert compiled["runs"] == pure["runs"]
