"""docs/config-reference.md covers every key of the backtest, sweep and live configs and
the blueprints, and `make docs` regenerates exactly the committed page."""

from __future__ import annotations

import re
import runpy
import sys
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from isoloop.config.models import RunConfig
from isoloop.errors import BlueprintError
from isoloop.live.config import LiveConfig
from isoloop.reference import BLUEPRINT_KEYS, SLOT_KEYS, render_reference
from isoloop.scope.blueprint import load_blueprint
from isoloop.sweep.config import SweepConfig

ROOT = Path(__file__).resolve().parents[2]
ROOTS = (RunConfig, SweepConfig, LiveConfig)


@pytest.fixture(scope="module")
def page() -> str:
    return render_reference()


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Every model named anywhere inside a type annotation (unions, lists, dicts, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _all_models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    todo = list(ROOTS)
    while todo:
        model = todo.pop()
        if model in found:
            continue
        found.append(model)
        for field in model.model_fields.values():
            todo.extend(_models_in(field.annotation))
    return found


def _sections(page: str) -> dict[str, str]:
    """Each `### Heading` section's text, by heading."""
    parts = re.split(r"^### (.+)$", page, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1].split("\n## ")[0] for i in range(1, len(parts), 2)}


def _rows(section: str) -> dict[str, list[str]]:
    """Table rows by their first cell (backticks stripped): the remaining cells."""
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_every_key_of_every_config_model_has_a_row(page: str) -> None:
    sections = _sections(page)
    models = _all_models()
    # The three roots and what hangs off them: the run config's, the sweep's, the live config's.
    assert {RunConfig, SweepConfig, LiveConfig} <= set(models) and len(models) > 20
    for model in models:
        assert model.__name__ in sections, f"no section for {model.__name__}"
        rows = _rows(sections[model.__name__])
        for name, field in model.model_fields.items():
            key = field.alias or name
            assert key in rows, f"{model.__name__}.{key} is missing from the reference"
        assert len(rows) == len(model.model_fields), model.__name__


def test_every_key_has_a_description(page: str) -> None:
    sections = _sections(page)
    models = _all_models()
    assert {m.__name__ for m in models} >= {"RunConfig", "ExecutorSettings", "FeedConfig"}
    for model in models:
        for key, cells in _rows(sections[model.__name__]).items():
            assert cells[3], f"{model.__name__}.{key} has no description"


def test_rows_show_types_defaults_bounds_and_choices(page: str) -> None:
    sections = _sections(page)
    executor = _rows(sections["ExecutorSettings"])
    assert executor["kind"][:2] == ["str", "`process`"]
    assert executor["kind"][2] == "one of `serial`, `thread`, `process`, `dask`, `ray`"
    assert executor["workers"][:3] == ["int", "`2`", "≥ 1"]
    search = _rows(sections["SearchSettings"])
    assert search["max_tries"][2] == "int: ≥ 1; float: > 0, ≤ 1"
    feed = _rows(sections["FeedConfig"])
    assert feed["mode"][1] == "`replay`"
    assert _rows(sections["LiveConfig"])["feed"][1] == "**required**"
    # A live strategy's venue defaults differ from a backtest's: the page says how.
    venue = _rows(sections["LiveStrategyConfig"])["venue"]
    assert venue[1].startswith("`{name: paper, cash: 100000.0}`")
    # Models shared with the backtest config are described once, with both places named.
    assert "`strategies[].venue`" in sections["VenueConfig"]
    assert page.count("### VenueConfig") == 1
    strategy = _rows(sections["StrategyConfig"])
    assert strategy["class"][0] == "str" and strategy["class"][1] == "**required**"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bp.yaml"
    path.write_text(text)
    return path


def test_documented_blueprint_keys_are_the_ones_the_loader_takes(tmp_path: Path) -> None:
    top = _write(tmp_path, "bogus: 1\nslots: {clock: isoloop.engine.clock:SimulatedClock}\n")
    with pytest.raises(BlueprintError) as exc:
        load_blueprint(top)
    allowed = re.search(r"allowed: (\[.*\])", str(exc.value))
    assert allowed is not None
    assert sorted(yaml.safe_load(allowed.group(1))) == sorted(k for k, *_ in BLUEPRINT_KEYS)

    slot = _write(tmp_path, "slots: {clock: {class: a.b:C, bogus: 1}}\n")
    with pytest.raises(BlueprintError) as exc:
        load_blueprint(slot)
    allowed = re.search(r"allowed: (.*)$", str(exc.value))
    assert allowed is not None
    assert sorted(allowed.group(1).split(", ")) == sorted(k for k, *_ in SLOT_KEYS)


def test_every_shipped_blueprint_is_listed_with_its_slots_and_classes(page: str) -> None:
    blueprints = page.split("### Built-in blueprints", 1)[1]
    files = sorted((ROOT / "containers").glob("*.yaml"))
    assert [p.stem for p in files] == [
        *("backtest", "basis", "basis_live", "binance_perp", "binance_spot", "bybit_perp"),
        *("bybit_spot", "live", "okx_perp", "okx_spot", "paper"),
    ]
    for path in files:
        raw = yaml.safe_load(path.read_text())
        section = blueprints.split(f"#### {raw['name']}\n", 1)[1].split("\n#### ", 1)[0]
        assert raw["description"] in section
        rows = {cells[0]: cells for cells in _slot_rows(section)}
        assert set(rows) == set(raw["slots"]), path.name
        for slot, value in raw["slots"].items():
            written = value if isinstance(value, str) else value["class"]
            assert rows[slot][1] == f"`{written}`", (path.name, slot)
    # The role each slot plays, from the role tables: `hedge_venue` is a venue.
    basis = blueprints.split("#### basis\n", 1)[1]
    assert {c[0]: c[3] for c in _slot_rows(basis)}["hedge_venue"] == "venue"


def _slot_rows(section: str) -> list[list[str]]:
    out = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if cells and cells[0].isdigit():
            out.append([cells[1].strip("`"), *cells[2:]])
    return out


def test_make_docs_command_prints_the_committed_page(
    page: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    makefile = (ROOT / "Makefile").read_text()
    command = re.search(r"^docs:.*\n\t\$\(BIN\)/python -m ([\w.]+) > (\S+)$", makefile, re.M)
    assert command is not None, "the Makefile's docs target is not `python -m MODULE > FILE`"
    module, target = command.groups()
    assert target == "docs/config-reference.md"
    # What `python -m MODULE` runs, in this process (a fresh interpreter costs ~20 s of
    # imports on a busy machine); test_docs checks the committed page equals this page.
    monkeypatch.delitem(sys.modules, module, raising=False)  # run it as a fresh __main__
    runpy.run_module(module, run_name="__main__")
    assert capsys.readouterr().out == page
