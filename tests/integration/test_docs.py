"""The docs stay true to the code."""

from __future__ import annotations

from pathlib import Path

from isoloop.reference import render_reference

ROOT = Path(__file__).resolve().parents[2]


def test_config_reference_matches_the_models() -> None:
    committed = (ROOT / "docs" / "config-reference.md").read_text()
    assert committed == render_reference(), "run `make docs` and commit docs/config-reference.md"


def test_readme_states_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_shipped_config_validates() -> None:
    from isoloop.validate import validate_config_file

    for path in sorted((ROOT / "configs").glob("*.yaml")):
        assert validate_config_file(path).startswith(("backtest", "sweep", "live")), path
