"""A user's project folder: a strategy module next to its configs, run with no PYTHONPATH.

The strategy module records every import (`<pid> <__file__>`) in an import log,
so a test can tell which process imported it from where (the config's folder,
or the copy an executor shipped to its workers).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from support.cli_run import run_cli

MODULE = '''\
"""A user's own strategy: SmaCross under another name, in the user's folder."""
import os

from isoloop.examples.sma_cross import SmaCross
from {helper} import LABEL

with open({log!r}, "a", encoding="utf-8") as _log:
    _log.write(f"{{os.getpid()}} {{__file__}}\\n")


class MyCross(SmaCross):
    label = LABEL
'''

BASE: dict[str, Any] = {
    "name": "mine",
    "strategy": {"class": "my_strats:MyCross", "params": {"fast": 10, "slow": 30}},
    "data": {"source": "sample:GOOG"},
    "venue": {"cash": 10000, "commission": 0.0},
    "seed": 0,
}


def write_project(folder: Path, log: Path, *, module: str = "my_strats") -> Path:
    """`folder/<module>.py` (importing a sibling `<module>_helpers.py`), `run.yaml` and
    `sweep.yaml` (a 6-trial grid); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    helper = f"{module}_helpers"
    (folder / f"{module}.py").write_text(MODULE.format(helper=helper, log=str(log)))
    (folder / f"{helper}.py").write_text('LABEL = "mine"\n')
    base = json.loads(json.dumps(BASE))
    base["strategy"]["class"] = f"{module}:MyCross"
    (folder / "run.yaml").write_text(json.dumps(base))
    sweep = {
        "kind": "sweep",
        "base": "run.yaml",
        "space": {"fast": [5, 10, 15], "slow": [30, 40]},
        "objective": {"metric": "sharpe_ratio"},
        "search": {"method": "grid"},
        "executor": {"kind": "serial", "workers": 2},
    }
    (folder / "sweep.yaml").write_text(json.dumps(sweep))
    return folder


def imports(log: Path) -> list[tuple[int, Path]]:
    """(pid, file) of every import of the strategy module, in order."""
    if not log.exists():
        return []
    rows = (line.split(" ", 1) for line in log.read_text().splitlines() if line.strip())
    return [(int(pid), Path(path)) for pid, path in rows]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without PYTHONPATH (and without the allow-list), plus `extra`."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ISOLOOP_ALLOWED_MODULES")
    }
    env.update(extra or {})
    return env


def isoloop(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`python -m isoloop.cli ARGS` in `cwd` with no PYTHONPATH at all."""
    return run_cli(*args, cwd=cwd, env=clean_env(env), timeout=timeout)


def json_out(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, (done.returncode, done.stdout[-2000:], done.stderr[-4000:])
    payload: dict[str, Any] = json.loads(done.stdout)
    return payload
