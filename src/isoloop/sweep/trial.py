"""The backtest trial: what every executor runs per trial, and what it starts from.

Only a `TrialSpec` (trial id, params, seed) crosses a process boundary per trial;
the base config travels once per worker (or per map) as a `TrialBase`, and the
bars through the executor's data handle (memmap, a Dask task, a Ray object).
Each worker builds its shared services from that handle, and every trial gets a
fresh run scope.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from isoloop.backtest.run import BacktestCoordinator, BacktestResult
from isoloop.config import RunConfig, apply_overrides
from isoloop.data import MarketData
from isoloop.scope import SharedServices
from isoloop.sweep.loading import params_config, trial_overrides
from isoloop.sweep.spec import TrialOutput, TrialSpec

__all__ = ["BacktestTrial", "TrialBase", "backtest_params"]


@dataclass(frozen=True, slots=True)
class TrialBase:
    """What every trial of one backtest sweep starts from (the executor's trial context).

    The run config travels as JSON text, not as a pydantic model: a few hundred
    bytes to pickle, and each trial validates its own copy with its parameters
    applied, so no trial can reach another's config objects.
    """

    run_config_json: str
    fingerprints: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, base: RunConfig, prints: Mapping[str, str]) -> TrialBase:
        return cls(json.dumps(base.model_dump(mode="json", by_alias=True)), tuple(prints.items()))

    @property
    def code_folders(self) -> tuple[str, ...]:
        """The folder the strategy's module came from (`strategy.path`), for executors
        that ship user code to their workers (dask, ray)."""
        path = json.loads(self.run_config_json).get("strategy", {}).get("path")
        return (path,) if isinstance(path, str) else ()

    def trial_config(self, spec: TrialSpec) -> RunConfig:
        """The base with the trial's parameters and its own seed."""
        raw = apply_overrides(json.loads(self.run_config_json), trial_overrides(spec.params))
        raw["seed"] = spec.seed
        return RunConfig.model_validate_json(json.dumps(raw))


class BacktestTrial:
    """The trial function every executor runs: one backtest in a fresh run scope.

    An object rather than a plain function so that a worker keeps one
    `BacktestCoordinator` (its shared services, parsed blueprint, pooled provider
    graphs) per data set across all the trials it runs, instead of rebuilding them
    per trial. The cache is per instance — a process worker unpickles its own copy
    once; nothing is module-level — and it never crosses a process boundary.
    """

    _MAX_CACHED = 4  # distinct data sets (walk-forward windows) kept per worker

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._coordinators: dict[int, tuple[MarketData, BacktestCoordinator]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    # Every instance computes the same function: executors that reuse workers for "the
    # same trial function" (the process pool) may treat them as one.
    def __eq__(self, other: object) -> bool:
        return type(other) is BacktestTrial

    def __hash__(self) -> int:
        return hash(BacktestTrial)

    def _coordinator(self, data: MarketData, prints: Mapping[str, str]) -> BacktestCoordinator:
        with self._lock:
            entry = self._coordinators.get(id(data))
            if entry is None or entry[0] is not data:
                if len(self._coordinators) >= self._MAX_CACHED:
                    _, (_, oldest) = next(iter(self._coordinators.items()))
                    del self._coordinators[next(iter(self._coordinators))]
                    oldest.close()
                shared = SharedServices(market_data=data, fingerprints=dict(prints))
                entry = (data, BacktestCoordinator(shared))
                self._coordinators[id(data)] = entry
            return entry[1]

    def __call__(self, spec: TrialSpec, data: MarketData, base: TrialBase) -> TrialOutput:
        cfg = base.trial_config(spec)
        coordinator = self._coordinator(data, dict(base.fingerprints))
        result = coordinator.run_backtest(cfg, run_id=f"trial-{spec.trial_id}")
        return TrialOutput(stats=result.stats, digest=result.digest)


def backtest_params(
    base: RunConfig,
    params: Mapping[str, Any],
    data: MarketData,
    prints: Mapping[str, str],
    run_id: str,
) -> BacktestResult:
    """One backtest of `params` (with the base's own seed) on `data`, in the driver."""
    cfg = RunConfig.model_validate_json(json.dumps(params_config(base, params)))
    coordinator = BacktestCoordinator(SharedServices(market_data=data, fingerprints=dict(prints)))
    try:
        return coordinator.run_backtest(cfg, run_id=run_id)
    finally:
        coordinator.close()
