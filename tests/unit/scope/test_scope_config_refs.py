"""`@config.` references are worked out once per blueprint and read from every run's own
config: two runs whose configs differ in a referenced value each get their own value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import structlog
from pydantic import BaseModel, ConfigDict

from isoloop.data.bars import MarketData
from isoloop.errors import BlueprintError
from isoloop.logging import MemorySink, NullSink, make_run_logger, redact
from isoloop.scope import ScopeCoordinator, SharedServices, load_blueprint
from isoloop.scope.blueprint import Blueprint, SlotSpec
from isoloop.scope.refs import resolve_config_ref

BLUEPRINT = (
    "slots:\n"
    "  clock:\n"
    "    class: '@config.parts.clock_class'\n"
    "    args: {config: '@config.parts.section'}\n"
    "  bus:\n"
    "    class: support.scope_parts:Bus\n"
    "    args: {config: '@config.bus_section'}\n"
)


class Parts(BaseModel):
    model_config = ConfigDict(frozen=True)
    clock_class: str
    section: dict[str, Any]

    def helper(self) -> int:
        return 1


class Config(BaseModel):
    model_config = ConfigDict(frozen=True)
    parts: Parts
    bus_section: dict[str, Any]


def make_config(clock: str, journal: list[str]) -> Config:
    return Config(
        parts=Parts(clock_class=f"support.scope_parts:{clock}", section={"journal": journal}),
        bus_section={"journal": journal},
    )


def test_runs_that_differ_in_a_referenced_class_or_argument_each_get_their_own(
    tmp_path: Path,
) -> None:
    path = tmp_path / "refs.yaml"
    path.write_text(BLUEPRINT)
    coord = ScopeCoordinator(SharedServices(market_data=MarketData({})))
    bp = coord.blueprint(path)
    # The same blueprint object, one config after another (pooled graphs reused): a
    # stale class or argument from the run before would show here.
    for clock in ("Clock", "Part", "Part", "Clock", "Part"):
        journal: list[str] = []
        cfg = make_config(clock, journal)
        assert bp.class_refs(cfg) == (f"support.scope_parts:{clock}", "support.scope_parts:Bus")
        args = bp.slot_args(cfg)
        assert args["clock"]["config"] is cfg.parts.section  # the run's own object
        assert args["bus"]["config"] is cfg.bus_section
        with coord.scope(bp, config=cfg) as run:
            assert type(run.get("clock")).__name__ == clock
            assert run.get("clock").journal is journal
            assert run.get("bus").clock is run.get("clock")
            run.start()
        assert journal == [f"start:{clock}", "start:Bus", "stop:Bus", f"stop:{clock}"]
    # A mapping config through the same blueprint reads as a mapping.
    mapping = {
        "parts": {"clock_class": "support.scope_parts:Clock", "section": {"journal": ["m"]}},
        "bus_section": {"journal": ["m"]},
    }
    with coord.scope(bp, config=mapping) as run:
        assert run.get("clock").journal == ["m"]
    coord.close()


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("@config.parts.missing", "does not exist in the run config"),
        ("@config.parts.helper", "names a method or a class"),
        ("@config.parts.model_dump", "names a method or a class"),
        ("@config.parts.section.nope", "does not exist in the run config"),
        ("@config.nothing", "does not exist in the run config"),
    ],
)
def test_reading_a_reference_fails_as_following_it_always_did(
    tmp_path: Path, ref: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        f"slots:\n  clock:\n    class: support.scope_parts:Clock\n    args: {{config: '{ref}'}}\n"
    )
    bp = load_blueprint(path)
    where = bp.where("clock")
    for cfg in (make_config("Clock", []), make_config("Clock", [])):  # second: classes known
        with pytest.raises(BlueprintError) as plain:
            resolve_config_ref(ref, cfg, where=where)
        with pytest.raises(BlueprintError) as read:
            bp.slot_args(cfg)
        assert str(read.value) == str(plain.value)
        assert message in str(read.value) and str(path) in str(read.value)


def test_a_malformed_reference_in_code_fails_where_it_always_did() -> None:
    # Not read from a file (which refuses it on load): the class references still work,
    # and the bad argument is reported when arguments are read, naming its slot.
    slots = (
        SlotSpec("clock", "support.scope_parts:Clock", {"config": "@config._secret"}),
        SlotSpec("bus", "support.scope_parts:Bus"),
    )
    bp = Blueprint("code", Path("code.yaml"), (), slots)
    assert bp.class_refs({}) == ("support.scope_parts:Clock", "support.scope_parts:Bus")
    with pytest.raises(BlueprintError, match=r"slot 'clock'.*'_secret'.*not a plain field name"):
        bp.slot_args({"_secret": 1})


def test_run_logger_is_what_structlog_builds_from_the_same_parts() -> None:
    for sink in (MemorySink(), NullSink()):
        log = make_run_logger(sink, run_id="r1", container_id="c1", blueprint="b")
        proxy = structlog.wrap_logger(
            sink,
            processors=list(log._processors),
            wrapper_class=type(log),
            context_class=dict,
            cache_logger_on_first_use=False,
        )
        built = proxy.bind(run_id="r1", container_id="c1", blueprint="b")
        assert type(log) is type(built)
        assert log._logger is sink and log._context == built._context
        assert list(log._context) == ["run_id", "container_id", "blueprint"]
        assert redact in log._processors
    memory = MemorySink()
    log = make_run_logger(memory, run_id="r1", container_id="c1")
    log.debug("hello", api_key="k", n=1)
    (record,) = memory.records()
    assert record["run_id"] == "r1" and record["container_id"] == "c1"
    assert record["api_key"] == "***" and record["level"] == "debug" and "timestamp" in record
    quiet = make_run_logger(NullSink(), run_id="r2", container_id="c2")
    assert quiet.info("dropped") is None  # filtered before any processor runs


class Seeded:
    def __init__(self, seed_sequence: np.random.SeedSequence) -> None:
        self.seq = seed_sequence


def test_a_slot_that_asks_for_the_seed_sequence_gets_one_of_the_runs_seed() -> None:
    spec = SlotSpec("clock", "support.scope_parts:Clock")
    bp = Blueprint("code", Path("code.yaml"), (), (spec,)).with_classes({"clock": Seeded})
    coord = ScopeCoordinator(SharedServices(market_data=MarketData({})))
    for seed in (0, 7, 2**40):
        with coord.scope(bp, seed=seed) as run:
            seq = run.get("clock").seq
            assert isinstance(seq, np.random.SeedSequence)
            assert (seq.entropy, seq.spawn_key) == (seed, ())
            want = np.random.SeedSequence(seed).generate_state(4)
            assert seq.generate_state(4).tolist() == want.tolist()
    with coord.scope(bp, seed=3) as a, coord.scope(bp, seed=3) as b:
        assert a.get("clock").seq is not b.get("clock").seq  # never one run's for another
    given = np.random.SeedSequence(5, spawn_key=(2,))
    with coord.scope(bp, seed=given) as run:
        assert run.get("clock").seq is given
    with pytest.raises(ValueError, match="non-negative"):
        coord.create(bp, seed=-1)  # a bad seed fails when the scope is created
    coord.close()
