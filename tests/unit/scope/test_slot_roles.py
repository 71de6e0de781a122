"""A slot takes only a class that can play its role, checked before anything is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoloop.config import RunConfig
from isoloop.data.bars import MarketData
from isoloop.engine.roles import BACKTEST_ROLES, LIVE_ROLES, check_strategy_params
from isoloop.errors import BlueprintError, StrategyParamError
from isoloop.examples.sma_cross import SmaCross
from isoloop.scope import ScopeCoordinator, SharedServices, load_blueprint
from isoloop.scope.roles import Role, SlotRoles

ROOT = Path(__file__).resolve().parents[3]
# A small role table for the stand-ins of tests/support/role_parts.py.
ROLES = SlotRoles(
    "test",
    (
        Role("clock", "a clock with now()", methods=("now",)),
        Role("bus", "a bus with publish()", methods=("publish",)),
    ),
)


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bp.yaml"
    path.write_text(body)
    return path


def open_scope(path: Path, roles: SlotRoles | None, journal: list[str]) -> list[str]:
    coord = ScopeCoordinator(SharedServices(market_data=MarketData({})), roles=roles)
    try:
        with coord.scope(path, config={"journal": journal}) as run:
            return list(run.init_order)
    finally:
        coord.close()


def test_classes_that_play_their_roles_are_built(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "slots:\n"
        "  clock: support.role_parts:Ticker\n"
        "  bus: support.role_parts:Publisher\n"
        "  helper: support.role_parts:Recorder\n"  # no role: a component (has health())
        "  backup:\n    class: support.role_parts:Ticker\n    role: clock\n",
    )
    journal: list[str] = []
    assert open_scope(path, ROLES, journal) == ["clock", "bus", "helper", "backup"]
    assert journal == ["built:Ticker", "built:Publisher", "built:Recorder", "built:Ticker"]


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        # A class without the role's method, in a slot named after the role.
        (
            "  bus: support.role_parts:Ticker\n",
            r"slot 'bus'.*Ticker lacks publish\(\).*needs a bus",
        ),
        # A declared role is checked like a slot name.
        (
            "  spare:\n    class: support.role_parts:Publisher\n    role: clock\n",
            r"slot 'spare'.*lacks now\(\)",
        ),
        # `extra_bus` plays `bus`: the part of the name after an underscore.
        ("  extra_bus: support.role_parts:Ticker\n", r"slot 'extra_bus'.*lacks publish\(\)"),
        # A slot outside the table must at least be a component.
        ("  odd: support.role_parts:Silent\n", r"slot 'odd'.*has none of start\(\), stop\(\)"),
        (
            "  odd:\n    class: support.role_parts:Recorder\n    role: broker\n",
            r"role 'broker' is not a role of a test container",
        ),
    ],
)
def test_a_class_that_cannot_play_its_role_is_refused_before_anything_is_built(
    tmp_path: Path, slots: str, expected: str
) -> None:
    # The good slot comes first: it must not be built either.
    path = write(tmp_path, "slots:\n  clock: support.role_parts:Ticker\n" + slots)
    journal: list[str] = []
    with pytest.raises(BlueprintError, match=expected) as info:
        open_scope(path, ROLES, journal)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    assert journal == []


def test_a_table_without_extra_refuses_slots_outside_it(tmp_path: Path) -> None:
    strict = SlotRoles("strict", ROLES.roles, extra=None)
    path = write(tmp_path, "slots:\n  helper: support.role_parts:Recorder\n")
    with pytest.raises(BlueprintError, match=r"a strict container has no slot 'helper'"):
        open_scope(path, strict, [])


@pytest.mark.parametrize(
    "ref", ["subprocess:Popen", "io:FileIO", "threading:Thread", "builtins:dict", "os:PathLike"]
)
@pytest.mark.parametrize("roles", [None, ROLES], ids=["no table", "table"])
def test_standard_library_classes_are_never_components(
    tmp_path: Path, ref: str, roles: SlotRoles | None
) -> None:
    marker = tmp_path / "marker"
    path = write(
        tmp_path,
        f"slots:\n  clock: support.role_parts:Ticker\n"
        f"  run:\n    class: {ref}\n    args: {{args: [touch, {marker}]}}\n",
    )
    journal: list[str] = []
    with pytest.raises(BlueprintError, match=r"slot 'run'.*standard-library class"):
        open_scope(path, roles, journal)
    assert not marker.exists()
    assert journal == []


def test_private_classes_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "slots:\n  clock: isoloop.scope.blueprint:_MISSING\n")
    with pytest.raises(BlueprintError, match=r"slot 'clock'.*public class name"):
        open_scope(path, None, [])


@pytest.mark.parametrize(
    "ref",
    [
        "@config.__class__.__init__.__globals__",
        "@config.journal.__class__",
        "@config._private",
        "@config.Journal",
        "@config.journal[0]",
        "@config.",
        "@config.journal..x",
    ],
)
def test_config_references_take_plain_field_names_only(tmp_path: Path, ref: str) -> None:
    path = write(
        tmp_path,
        f"slots:\n  clock:\n    class: support.role_parts:Ticker\n    args: {{config: '{ref}'}}\n",
    )
    with pytest.raises(BlueprintError, match=r"slot 'clock'.*not a plain field name") as info:
        load_blueprint(path)  # refused when the file is read, before any reference is followed
    assert str(path) in str(info.value)


def test_a_config_reference_to_a_method_is_refused(tmp_path: Path) -> None:
    cfg = RunConfig.model_validate(
        {"strategy": {"class": "isoloop.examples.sma_cross:SmaCross"}, "data": {"source": "x:y"}}
    )
    bp = load_blueprint(
        write(
            tmp_path,
            "slots:\n  clock:\n    class: support.role_parts:Ticker\n"
            "    args: {config: '@config.model_dump'}\n",
        )
    )
    with pytest.raises(BlueprintError, match=r"'@config.model_dump' names a method"):
        bp.check(cfg, roles=None, shared=())
    # A plain field is followed.
    good = load_blueprint(
        write(
            tmp_path,
            "slots:\n  clock:\n    class: support.role_parts:Ticker\n"
            "    args: {config: '@config.venue.cash'}\n",
        )
    )
    assert good.resolve_args(good.slots[0], cfg) == {"config": cfg.venue.cash}


@pytest.mark.parametrize(
    ("name", "roles"),
    [
        ("backtest", BACKTEST_ROLES),
        ("basis", BACKTEST_ROLES),
        ("paper", LIVE_ROLES),
        ("live", LIVE_ROLES),
    ],
)
def test_the_shipped_blueprints_play_their_run_kinds_roles(name: str, roles: SlotRoles) -> None:
    cfg = RunConfig.model_validate(
        {"strategy": {"class": "isoloop.examples.sma_cross:SmaCross"}, "data": {"source": "x:y"}}
    )
    bp = load_blueprint(ROOT / "containers" / f"{name}.yaml")
    plans = bp.check(cfg, roles=roles, shared=("market_data", "fingerprints", "live", "router"))
    assert {p.name for p in plans} == set(bp.slot_names)


def test_a_live_venue_without_the_venue_protocol_is_refused_by_the_live_roles(
    tmp_path: Path,
) -> None:
    cfg = RunConfig.model_validate(
        {"strategy": {"class": "isoloop.examples.sma_cross:SmaCross"}, "data": {"source": "x:y"}}
    )
    text = (ROOT / "containers" / "live.yaml").read_text()
    placeholder = "isoloop.live.slots.broker:BrokerAdapterRequired"
    assert placeholder in text
    bp = load_blueprint(write(tmp_path, text.replace(placeholder, "support.role_parts:HalfVenue")))
    with pytest.raises(BlueprintError, match=r"slot 'venue'.*HalfVenue lacks"):
        bp.check(cfg, roles=LIVE_ROLES, shared=("market_data", "live", "router"))


def test_a_strategy_slot_takes_only_a_strategy_subclass(tmp_path: Path) -> None:
    cfg = RunConfig.model_validate(
        {"strategy": {"class": "support.role_parts:Recorder"}, "data": {"source": "x:y"}}
    )
    bp = load_blueprint(ROOT / "containers" / "backtest.yaml")
    with pytest.raises(
        BlueprintError, match=r"slot 'strategy'.*Recorder is no subclass of isoloop.engine"
    ):
        bp.check(cfg, roles=BACKTEST_ROLES, shared=("market_data",))


def test_strategy_params_are_checked_at_class_level() -> None:
    assert check_strategy_params(SmaCross, {"fast": 5, "slow": 8}) == {"fast": 5, "slow": 8}
    with pytest.raises(StrategyParamError, match=r"strategy\.params\.slow"):
        check_strategy_params(SmaCross, {"fast": 9, "slow": 8})


def test_a_declared_role_is_shown_by_blueprint_show(tmp_path: Path) -> None:
    from isoloop.scope.describe import describe_blueprint, render_text

    path = write(
        tmp_path, "slots:\n  spare:\n    class: support.role_parts:Ticker\n    role: clock\n"
    )
    text = render_text(describe_blueprint(load_blueprint(path), None))
    assert "role: clock" in text


@pytest.mark.parametrize(
    ("allowed", "ok"),
    [("support", True), ("support.role_parts", True), ("supp", False), ("mycompany", False)],
)
def test_the_module_allow_list_matches_whole_module_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allowed: str, ok: bool
) -> None:
    monkeypatch.setenv("ISOLOOP_ALLOWED_MODULES", allowed)
    path = write(tmp_path, "slots:\n  clock: support.role_parts:Ticker\n")
    if ok:
        assert open_scope(path, ROLES, []) == ["clock"]
    else:
        with pytest.raises(BlueprintError, match=r"'support.role_parts' is not in ISOLOOP_ALLOWED"):
            open_scope(path, ROLES, [])
    # isoloop's own modules stay allowed whatever the list says.
    assert load_blueprint(ROOT / "containers" / "backtest.yaml").plan(
        RunConfig.model_validate(
            {
                "strategy": {"class": "isoloop.examples.sma_cross:SmaCross"},
                "data": {"source": "x:y"},
            }
        ),
        BACKTEST_ROLES,
    )
