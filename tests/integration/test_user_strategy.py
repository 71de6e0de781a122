"""A user's strategy file next to the config runs without PYTHONPATH, from any folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.user_code import imports, isoloop, json_out, write_project

GOOG_10_30 = 51422.99  # SmaCross 10/30 on GOOG (backtesting.py's own figure)


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(project folder, an unrelated working folder, the import log)."""
    log = tmp_path / "imports.log"
    folder = write_project(tmp_path / "project", log)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    return folder, elsewhere, log


def test_backtest_validate_verify_find_the_strategy_next_to_the_config(
    project: tuple[Path, Path, Path],
) -> None:
    folder, elsewhere, log = project
    done = isoloop("validate", str(folder / "run.yaml"), cwd=elsewhere, timeout=180)
    assert done.returncode == 0, done.stderr
    run = json_out(
        isoloop(
            "backtest",
            str(folder / "run.yaml"),
            "--json",
            "--out",
            str(elsewhere / "runs"),
            cwd=elsewhere,
            timeout=300,
        )
    )
    assert round(run["stats"]["equity_final"], 2) == GOOG_10_30
    manifest = json.loads((Path(run["run_dir"]) / "manifest.json").read_text())
    assert manifest["config"]["strategy"]["path"] == str(folder.resolve())
    # verify re-runs from the manifest alone, from yet another folder
    checked = isoloop("verify", run["run_dir"], cwd=folder.parent, timeout=300)
    assert checked.returncode == 0, checked.stderr
    assert {path for _, path in imports(log)} == {(folder / "my_strats.py").resolve()}


def test_strategy_path_names_another_folder(tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    code = write_project(tmp_path / "project" / "strategies", log)
    cfg = json.loads((code / "run.yaml").read_text())
    cfg["strategy"]["path"] = "strategies"
    (tmp_path / "project" / "run.yaml").write_text(json.dumps(cfg))
    run = json_out(
        isoloop(
            "backtest",
            str(tmp_path / "project" / "run.yaml"),
            "--json",
            "--no-report",
            "--out",
            str(tmp_path / "runs"),
            cwd=tmp_path,
            timeout=300,
        )
    )
    assert round(run["stats"]["equity_final"], 2) == GOOG_10_30


@pytest.mark.parametrize("kind", ["serial", "process"])
def test_sweep_of_the_users_strategy_on_local_executors(
    project: tuple[Path, Path, Path], kind: str
) -> None:
    folder, elsewhere, log = project
    result = json_out(
        isoloop(
            "sweep",
            str(folder / "sweep.yaml"),
            "--json",
            "--executor",
            kind,
            "--workers",
            "2",
            "--out",
            str(elsewhere / kind),
            "--store",
            str(elsewhere / f"{kind}.sqlite"),
            cwd=elsewhere,
            timeout=600,
        )
    )
    assert result["trials_total"] == 6 and result["trials_failed"] == 0
    assert {path for _, path in imports(log)} == {(folder / "my_strats.py").resolve()}


def test_local_executors_agree_on_the_digest(project: tuple[Path, Path, Path]) -> None:
    folder, elsewhere, _ = project
    digests = {
        kind: json_out(
            isoloop(
                "sweep",
                str(folder / "sweep.yaml"),
                "--json",
                "--executor",
                kind,
                "--workers",
                "2",
                "--out",
                str(elsewhere / kind),
                "--store",
                str(elsewhere / f"{kind}.sqlite"),
                cwd=elsewhere,
                timeout=600,
            )
        )["digest"]
        for kind in ("serial", "thread", "process")
    }
    assert len(set(digests.values())) == 1, digests


def test_an_installed_module_of_the_same_name_wins_and_is_reported(tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    folder = write_project(tmp_path / "project", log, module="json")
    done = isoloop("validate", str(folder / "run.yaml"), cwd=tmp_path, timeout=180)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("error: ") and "installed module of the same name wins" in line
    assert "rename" in line
    assert imports(log) == []  # the folder's json.py never ran


def test_the_allow_list_covers_folder_modules(project: tuple[Path, Path, Path]) -> None:
    folder, elsewhere, log = project
    done = isoloop(
        "validate",
        str(folder / "run.yaml"),
        cwd=elsewhere,
        env={"ISOLOOP_ALLOWED_MODULES": "mycompany"},
        timeout=180,
    )
    assert done.returncode == 2
    assert "ISOLOOP_ALLOWED_MODULES" in done.stderr and "my_strats" in done.stderr
    assert imports(log) == []  # refused before import
    allowed = isoloop(
        "validate",
        str(folder / "run.yaml"),
        cwd=elsewhere,
        env={"ISOLOOP_ALLOWED_MODULES": "my_strats"},
        timeout=180,
    )
    assert allowed.returncode == 0, allowed.stderr


def test_a_missing_module_says_where_it_was_looked_for(
    project: tuple[Path, Path, Path],
) -> None:
    folder, elsewhere, _ = project
    cfg = json.loads((folder / "run.yaml").read_text())
    cfg["strategy"]["class"] = "no_such_strats:MyCross"
    (folder / "bad.yaml").write_text(json.dumps(cfg))
    done = isoloop("validate", str(folder / "bad.yaml"), cwd=elsewhere, timeout=180)
    assert done.returncode == 2
    assert "no_such_strats.py next to the config" in done.stderr


def test_an_inline_base_finds_the_strategy_next_to_the_sweep_file(
    project: tuple[Path, Path, Path],
) -> None:
    folder, elsewhere, log = project
    sweep = json.loads((folder / "sweep.yaml").read_text())
    sweep["base"] = json.loads((folder / "run.yaml").read_text())  # inline, not a path
    (folder / "inline.yaml").write_text(json.dumps(sweep))
    result = json_out(
        isoloop(
            "sweep",
            str(folder / "inline.yaml"),
            "--json",
            "--out",
            str(elsewhere / "inline"),
            "--store",
            str(elsewhere / "inline.sqlite"),
            cwd=elsewhere,
            timeout=600,
        )
    )
    assert result["trials_total"] == 6 and result["trials_failed"] == 0
    assert {path for _, path in imports(log)} == {(folder / "my_strats.py").resolve()}
