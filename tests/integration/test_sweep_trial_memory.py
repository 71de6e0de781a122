"""`executor.trial_memory_mb` from a sweep config reaches the workers: a runaway trial is
recorded "memory" while the others of the same sweep finish ok."""

from __future__ import annotations

from pathlib import Path

import pytest

import isoloop

pytestmark = pytest.mark.timeout(300)


def _sweep(tmp_path: Path, **executor: object) -> dict[str, object]:
    return {
        "kind": "sweep",
        "base": {
            "strategy": {"class": "support.isoloop_test_strategies:HogsMemory"},
            "name": "hog",
            "data": {"source": "synthetic:gbm?bars=300&seed=1"},
        },
        "space": {"hog": [0, 1, 2]},
        "objective": {"metric": "equity_final", "direction": "maximize"},
        "search": {"method": "grid"},
        "executor": {"kind": "process", "workers": 1, "trial_timeout": 120, **executor},
        "store": str(tmp_path / "hog.sqlite"),
    }


def test_trial_memory_limit_from_the_config_stops_the_runaway_trial_only(tmp_path: Path) -> None:
    result = isoloop.run_sweep(_sweep(tmp_path, trial_memory_mb=300))
    status = dict(zip(result.trials["param.hog"], result.trials["status"], strict=True))
    by_trial = result.trials.set_index("trial_id")["status"].to_dict()
    assert by_trial == {0: "ok", 1: "memory", 2: "ok"}, status


def test_an_in_driver_executor_refuses_the_limit_instead_of_ignoring_it(tmp_path: Path) -> None:
    # The same config on the in-driver executor is refused, not run without its limit.
    with pytest.raises(isoloop.ConfigError, match="trial_memory_mb"):
        isoloop.run_sweep(_sweep(tmp_path, kind="serial", trial_memory_mb=300))
