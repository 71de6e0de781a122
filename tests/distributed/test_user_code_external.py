"""A sweep of the user's own strategy on an EXTERNAL Dask scheduler and Ray head.

The clusters are separate processes started here, as a user starts them; the
CLI runs from another folder with no PYTHONPATH. Workers must import the
strategy from the code the executor shipped, never from the config's folder
(which a worker on another machine would not have).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.external_clusters import dask_cluster, ray_head
from support.user_code import imports, isoloop, json_out, write_project

pytestmark = [pytest.mark.distributed, pytest.mark.timeout(1200)]


def _sweep(folder: Path, cwd: Path, name: str, *extra: str) -> dict[str, object]:
    return json_out(
        isoloop(
            "sweep",
            str(folder / "sweep.yaml"),
            "--json",
            "--out",
            str(cwd / name),
            "--store",
            str(cwd / f"{name}.sqlite"),
            *extra,
            cwd=cwd,
            timeout=900,
        )
    )


def _check_shipped(log: Path, folder: Path) -> None:
    seen = imports(log)
    from_folder = [pid for pid, path in seen if path == (folder / "my_strats.py").resolve()]
    shipped = [path for _, path in seen if path != (folder / "my_strats.py").resolve()]
    assert len(from_folder) == 1, seen  # the driver, once; no worker read the folder
    assert shipped, seen
    assert all(any(p.startswith("isoloop-code-") for p in path.parts) for path in shipped), seen


@pytest.mark.parametrize("kind", ["dask", "ray"])
def test_users_strategy_reaches_external_workers(tmp_path: Path, kind: str) -> None:
    folder = write_project(tmp_path / "project", tmp_path / "imports.log")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    serial = _sweep(folder, elsewhere, "serial", "--executor", "serial")
    (tmp_path / "imports.log").unlink()
    cluster = dask_cluster if kind == "dask" else ray_head
    with cluster(tmp_path) as address:
        result = _sweep(
            folder,
            elsewhere,
            kind,
            "--set",
            f"executor.kind={kind}",
            "--set",
            f"executor.address={address}",
        )
    assert result["trials_total"] == 6 and result["trials_failed"] == 0, result
    assert result["digest"] == serial["digest"]
    _check_shipped(tmp_path / "imports.log", folder)
