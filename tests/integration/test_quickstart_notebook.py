"""notebooks/quickstart.ipynb runs top to bottom in a fresh kernel and shows true results.

The notebook is executed as a user would run it (nbclient, a new IPython kernel on this
interpreter, the working directory a temporary folder), then its outputs are compared
with the same calls made here: the stats it shows, the run's digest, the sweep's best
parameters and digest, and the report file it wrote.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

import isoloop
from isoloop.examples.sma_cross import SmaCross

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "quickstart.ipynb"
KERNEL = "isoloop-quickstart-test"
# Generous per cell: the whole notebook takes ~20 s on an idle 2-core machine.
CELL_TIMEOUT = 240

# One notebook run serves every test here: keep them on one xdist worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("quickstart_notebook")


def goog() -> pd.DataFrame:
    """backtesting.py's bundled GOOG bars, read from the installed package at test time."""
    from backtesting.test import GOOG

    return GOOG.copy()


def kernel_manager(kernels: Path) -> KernelManager:
    """A kernel on this very interpreter, whatever kernels the machine's Jupyter lists."""
    spec = kernels / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"})
    )
    specs = KernelSpecManager(kernel_dirs=[str(kernels)])
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def cell(nb: Any, tag: str) -> Any:
    tagged = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"one cell tagged {tag!r} in the notebook"
    return tagged[0]


def result_text(code_cell: Any) -> str:
    """The cell's value as the notebook shows it (its execute_result's text/plain)."""
    results = [o for o in code_cell.outputs if o.output_type == "execute_result"]
    assert len(results) == 1, code_cell.source
    return str(results[0].data["text/plain"])


def stream_text(code_cell: Any, name: str) -> str:
    return "".join(o.text for o in code_cell.outputs if o.get("name") == name)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The notebook after a top-to-bottom run in a fresh kernel, and its working folder."""
    root = tmp_path_factory.mktemp("quickstart")
    work = root / "work"
    work.mkdir()
    notebooks_before = sorted(p.name for p in NOTEBOOK.parent.iterdir())
    nb = nbformat.read(NOTEBOOK, as_version=4)
    mp = pytest.MonkeyPatch()
    # IPython keeps its profile and history under IPYTHONDIR; keep it out of $HOME.
    mp.setenv("IPYTHONDIR", str(root / "ipython"))
    try:
        client = NotebookClient(
            nb,
            km=kernel_manager(root / "kernels"),
            timeout=CELL_TIMEOUT,
            # A kernel starting on a busy 2-core machine (the suite runs on two workers).
            startup_timeout=180,
            resources={"metadata": {"path": str(work)}},
        )
        client.execute()  # raises CellExecutionError, with the cell and traceback, on an error
    finally:
        mp.undo()
    # The notebook wrote only into its working folder, nothing beside itself.
    assert sorted(p.name for p in NOTEBOOK.parent.iterdir()) == notebooks_before
    return nb, work


def test_every_cell_runs_without_an_error_or_a_warning(executed: tuple[Any, Path]) -> None:
    nb, _ = executed
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code)
    errors = [c.source for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    # A warning printed in a quickstart (an isoloop "no trades", a deprecation) is what a
    # newcomer sees first; the stderr stream is where Python's warnings go.
    noisy = {c.id: stream_text(c, "stderr") for c in code if stream_text(c, "stderr")}
    assert noisy == {}


def test_the_stats_and_digest_shown_equal_a_direct_run(executed: tuple[Any, Path]) -> None:
    nb, _ = executed
    direct = isoloop.Backtest(goog(), SmaCross, symbol="GOOG", cash=10_000, commission=0.0).run(
        fast=10, slow=30
    )
    assert result_text(cell(nb, "digest")) == repr(direct.digest)
    # The stats Series exactly as a user reads it in the notebook (name = the run id).
    assert result_text(cell(nb, "stats")) == repr(direct.stats)
    assert direct.stats["trades"] == 66


def test_the_optimize_shown_equals_the_same_sweep_run_here(executed: tuple[Any, Path]) -> None:
    nb, _ = executed
    bt = isoloop.Backtest(goog(), SmaCross, symbol="GOOG", cash=10_000, commission=0.0)
    sweep = bt.optimize(
        fast=[5, 10, 15, 20, 25],
        slow=range(10, 70, 10),
        constraint="fast < slow",
        maximize="sharpe_ratio",
        executor="serial",
    )
    shown = cell(nb, "sweep")
    assert result_text(shown) == repr(sweep.digest)
    assert sweep.best is not None and sweep.failed == 0
    assert stream_text(shown, "stdout").strip() == (
        f"{sweep.done} trials, 0 failed; best {sweep.best.params}"
    )


def test_the_own_strategy_cell_trades(executed: tuple[Any, Path]) -> None:
    nb, _ = executed
    shown = result_text(cell(nb, "own-strategy"))
    trades = next(line for line in shown.splitlines() if line.startswith("trades"))
    assert float(trades.split()[1]) > 0


def test_plot_writes_the_report_into_the_working_folder_and_shows_it_inline(
    executed: tuple[Any, Path],
) -> None:
    nb, work = executed
    report = work / "results" / "quickstart.html"
    assert report.is_file()
    text = report.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html")
    inline = [o for o in cell(nb, "plot").outputs if o.output_type == "execute_result"]
    assert "<iframe" in inline[0].data["text/html"]


def test_the_committed_notebook_carries_no_outputs() -> None:
    # Outputs in the repository would go stale; the suite runs the notebook instead.
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [(c.outputs, c.execution_count) for c in code] == [([], None)] * len(code)
