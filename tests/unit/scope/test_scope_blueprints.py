"""Blueprint errors are clear: they name the file, the slot and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoloop.data.bars import MarketData
from isoloop.errors import BlueprintError
from isoloop.scope import ScopeCoordinator, SharedServices, load_blueprint


def bp(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(body)
    return path


def open_scope(path: Path, config: object = None) -> None:
    coord = ScopeCoordinator(SharedServices(market_data=MarketData({})))
    with coord.scope(path, config=config):
        pass


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "slots:\n  clock: no_such_module_xyz:Clock\n",
            r"slot 'clock'.*cannot import module 'no_such_module_xyz'",
        ),
        (
            "slots:\n  clock: support.scope_parts:NoSuchClass\n",
            r"slot 'clock'.*has no class 'NoSuchClass'",
        ),
        (
            "slots:\n  clock: support.scope_parts.Clock\n",
            r"slot 'clock'.*must look like 'package.module:Class'",
        ),
        ("slots:\n  odd: support.scope_parts:NeedsUnknown\n", r"slot 'odd'.*needs 'mystery'"),
        (
            "slots:\n  clock:\n    class: support.scope_parts:Clock\n    args: {nope: 1}\n",
            r"slot 'clock'.*args \['nope'\]",
        ),
        (
            "slots:\n  clock:\n    class: support.scope_parts:Clock\n    flavour: x\n",
            r"slot 'clock'.*unknown keys \['flavour'\]",
        ),
        ("slots:\n  bus: support.scope_parts:Bus\n", r"slot 'bus'.*needs 'clock'"),
        ("slotz:\n  clock: support.scope_parts:Clock\n", r"unknown keys \['slotz'\]"),
        ("slots: [1, 2\n", r"invalid YAML"),
        ("slots:\n  log: support.scope_parts:Clock\n", r"slot 'log'.*reserved"),
    ],
)
def test_blueprint_errors_name_file_and_slot(tmp_path: Path, body: str, expected: str) -> None:
    path = bp(tmp_path, body)
    with pytest.raises(BlueprintError, match=expected) as info:
        open_scope(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_cycle_is_reported(tmp_path: Path) -> None:
    path = bp(
        tmp_path,
        "slots:\n  clock:\n    class: support.scope_parts:Bus\n  bus: support.scope_parts:Bus\n",
    )
    # Bus needs a clock; the clock slot is itself a Bus that needs... itself? No: the
    # clock slot's Bus needs 'clock' which is its own slot, so it is unresolvable.
    with pytest.raises(BlueprintError, match=r"slot 'clock'.*needs 'clock'"):
        open_scope(path)


def test_unknown_slot_lookup_names_blueprint(tmp_path: Path) -> None:
    path = bp(tmp_path, "slots:\n  clock: support.scope_parts:Clock\n")
    coord = ScopeCoordinator(SharedServices(market_data=MarketData({})))
    with coord.scope(path) as run, pytest.raises(BlueprintError, match=r"unknown slot 'engine'"):
        run.get("engine")


def test_missing_blueprint_name_lists_search_path() -> None:
    with pytest.raises(BlueprintError, match=r"no blueprint named 'does_not_exist' \(looked in"):
        load_blueprint("does_not_exist")


def test_missing_shared_service_is_named(tmp_path: Path) -> None:
    path = bp(tmp_path, "shared: [instruments]\nslots:\n  clock: support.scope_parts:Clock\n")
    with pytest.raises(BlueprintError, match=r"needs shared services \['instruments'\]"):
        open_scope(path)


def test_config_references_resolve_and_fail_clearly(tmp_path: Path) -> None:
    path = bp(
        tmp_path,
        "slots:\n  clock:\n    class: '@config.clock_class'\n    args: {config: '@config.section'}\n",
    )
    coord = ScopeCoordinator(SharedServices(market_data=MarketData({})))
    cfg = {"clock_class": "support.scope_parts:Clock", "section": {"journal": ["x"]}}
    with coord.scope(path, config=cfg) as run:
        assert run.get("clock").journal == ["x"]
    with pytest.raises(BlueprintError, match=r"'@config.clock_class' does not exist"):
        open_scope(path, config={})
