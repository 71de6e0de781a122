"""Per-bar debug events: off by default, on with `observability.bar_events`; never in digests."""

from __future__ import annotations

from typing import Any

from isoloop.backtest.run import BacktestCoordinator, config_hash
from isoloop.config import load_run_config
from isoloop.logging import MemorySink

CONFIG: dict[str, Any] = {
    "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {"fast": 5, "slow": 12}},
    "data": {"source": "synthetic:gbm?bars=300&seed=11"},
}


def run(**overrides: Any) -> tuple[str, list[dict[str, Any]]]:
    sink = MemorySink()
    coord = BacktestCoordinator()
    try:
        result = coord.run_backtest(CONFIG, log_sink=sink, report=False, **overrides)
    finally:
        coord.close()
    return result.digest, sink.records()


def test_bar_events_appear_only_when_turned_on_and_leave_the_digest_alone() -> None:
    digest_off, off = run()
    digest_on, on = run(**{"observability.bar_events": True})
    assert not [e for e in off if e["event"] == "bar"]
    bars = [e for e in on if e["event"] == "bar"]
    # One per bar the loop ran: every bar after the first and the warm-up (slow SMA, 12).
    assert [e["bar"] for e in bars] == list(range(bars[0]["bar"], 300))
    assert 1 <= bars[0]["bar"] <= 13
    assert all(e["level"] == "debug" and e["equity"] > 0 for e in bars)
    assert bars[0]["equity"] == 10_000.0  # the default cash, before any trade
    assert digest_on == digest_off


def test_the_default_setting_is_left_out_of_the_config_and_its_hash() -> None:
    default, _ = load_run_config(CONFIG, {})
    explicit, _ = load_run_config(CONFIG, {"observability.bar_events": False})
    turned_on, _ = load_run_config(CONFIG, {"observability.bar_events": True})
    assert "observability" not in default.model_dump(mode="json", by_alias=True)
    assert config_hash(explicit) == config_hash(default)
    assert config_hash(turned_on) != config_hash(default)


def test_the_run_records_its_components_lifecycle() -> None:
    _, events = run()
    started = [e["slot"] for e in events if e["event"] == "component_started"]
    stopped = [e["slot"] for e in events if e["event"] == "component_stopped"]
    assert {"venue", "execution", "strategy", "engine"} <= set(started)
    assert stopped == started[::-1]  # teardown in reverse order
    initialized = {
        e["slot"]: e["class_path"] for e in events if e["event"] == "component_initialized"
    }
    assert initialized["strategy"] == "isoloop.examples.sma_cross:SmaCross"
    states = [e["state"] for e in events if e["event"] == "scope_state"]
    assert states[:2] == ["initialized", "running"] and states[-1] == "stopped"
