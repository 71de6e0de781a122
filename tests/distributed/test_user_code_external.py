"""A sweep of the user's own strategy on an EXTERNAL Dask scheduler and Ray head.

The clusters are separate processes started here as a user starts them (`dask
scheduler` + `dask worker`; `ray start --head`), and, for Ray, also the Ray the
sweep starts itself. The CLI runs from another folder with no PYTHONPATH.
Workers must import the strategy from the code the executor shipped, never from
the config's folder (which a worker on another machine would not have).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.external_clusters import RAY_MARKER, dask_cluster, marked, ray_head
from support.user_code import imports, isoloop, json_out, write_project

pytestmark = [pytest.mark.distributed, pytest.mark.timeout(1200)]


def _sweep(
    folder: Path, cwd: Path, name: str, *extra: str, env: dict[str, str] | None = None
) -> dict[str, object]:
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
            env=env,
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


def test_users_strategy_reaches_external_dask_workers(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "project", tmp_path / "imports.log")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    serial = _sweep(folder, elsewhere, "serial", "--executor", "serial")
    (tmp_path / "imports.log").unlink()
    with dask_cluster(tmp_path) as address:
        result = _sweep(
            folder,
            elsewhere,
            "dask",
            "--set",
            "executor.kind=dask",
            "--set",
            f"executor.address={address}",
        )
    assert result["trials_total"] == 6 and result["trials_failed"] == 0, result
    assert result["digest"] == serial["digest"]
    _check_shipped(tmp_path / "imports.log", folder)


def test_users_strategy_reaches_ray_workers_started_by_the_cli(tmp_path: Path) -> None:
    """Ray started by the sweep itself (`ray.init`): the workers get the shipped code too."""
    folder = write_project(tmp_path / "project", tmp_path / "imports.log")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    serial = _sweep(folder, elsewhere, "serial", "--executor", "serial")
    (tmp_path / "imports.log").unlink()
    result = _sweep(
        folder,
        elsewhere,
        "ray",
        "--executor",
        "ray",
        "--workers",
        "2",
        env={"RAY_AUTH_MODE": "disabled", "RAY_DISABLE_USAGE_STATS": "1"},
    )
    assert result["trials_total"] == 6 and result["trials_failed"] == 0, result
    assert result["digest"] == serial["digest"]
    _check_shipped(tmp_path / "imports.log", folder)


def test_users_strategy_reaches_an_external_ray_head(tmp_path: Path) -> None:
    """`ray start --head` started apart (token auth, 127.0.0.1), the sweep given its
    address with `--address`: 6 trials, the serial run's digest, the shipped code,
    and no process of that head left once it is stopped."""
    folder = write_project(tmp_path / "project", tmp_path / "imports.log")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    serial = _sweep(folder, elsewhere, "serial", "--executor", "serial")
    (tmp_path / "imports.log").unlink()
    with ray_head(tmp_path) as (address, env):
        result = _sweep(
            folder, elsewhere, "ray", "--executor", "ray", "--address", address, env=env
        )
    assert result["trials_total"] == 6 and result["trials_failed"] == 0, result
    assert result["digest"] == serial["digest"]
    _check_shipped(tmp_path / "imports.log", folder)
    assert marked(RAY_MARKER, env[RAY_MARKER]) == []
