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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isoloop.backtest.run import BacktestCoordinator, BacktestResult
from isoloop.config import RunConfig, apply_overrides
from isoloop.config.classpath import user_module_folder
from isoloop.data import MarketData
from isoloop.model.modes import ExecutionMode
from isoloop.scope import SharedServices
from isoloop.sweep.config import DATA_SOURCE_KEY
from isoloop.sweep.datasets import dataset_index, dataset_prints, dataset_slice
from isoloop.sweep.loading import params_config, trial_overrides
from isoloop.sweep.objective import Objective, evaluate_functions
from isoloop.sweep.spec import TrialOutput, TrialSpec

__all__ = ["BacktestTrial", "BaseConfigText", "TrialBase", "backtest_params", "sweep_mode"]


def sweep_mode(method: str) -> ExecutionMode:
    """A sweep's execution mode: an optuna study optimizes (each batch depends on the
    results before it); a grid or random search runs independent backtests in parallel."""
    return ExecutionMode.OPTIMIZATION if method == "optuna" else ExecutionMode.BACKTEST_PARALLEL


class BaseConfigText:
    """A sweep's base run config as JSON: parsed once per worker, with the text of each
    top-level member kept, so a trial encodes only the sections its parameters change.

    Read only: a trial's mapping shares the members it does not change with `parsed`.
    """

    __slots__ = ("members", "parsed", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.parsed: dict[str, Any] = json.loads(text)
        self.members = {key: _member(key, value) for key, value in self.parsed.items()}

    def encode(self, raw: Mapping[str, Any]) -> str:
        """`json.dumps(raw)`, reusing the text of every member that is still the base's own
        object (the same object encodes to the same text)."""
        parsed, members = self.parsed, self.members
        return (
            "{"
            + ", ".join(
                members[key] if key in parsed and value is parsed[key] else _member(key, value)
                for key, value in raw.items()
            )
            + "}"
        )


def _member(key: str, value: Any) -> str:
    """One member of a JSON object as `json.dumps` writes it (default separators)."""
    return f"{json.dumps(key)}: {json.dumps(value)}"


@dataclass(frozen=True, slots=True)
class TrialBase:
    """What every trial of one backtest sweep starts from (the executor's trial context).

    The run config travels as JSON text, not as a pydantic model: a few hundred
    bytes to pickle, and each trial validates its own copy with its parameters
    applied, so no trial can reach another's config objects.
    """

    run_config_json: str
    fingerprints: tuple[tuple[str, str], ...]
    # Function objectives `(name, module:function)`, evaluated in the trial on its stats,
    # and the folder their modules may be found in (the sweep file's).
    objective_functions: tuple[tuple[str, str], ...] = ()
    objective_folder: str | None = None
    # `data.source` in the space: (value as written, resolved source) per data set.
    datasets: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        base: RunConfig,
        prints: Mapping[str, str],
        *,
        objectives: Sequence[Objective] = (),
        folder: Path | None = None,
        datasets: Sequence[tuple[str, str]] = (),
    ) -> TrialBase:
        functions = tuple((o.name, o.function) for o in objectives if o.function is not None)
        return cls(
            json.dumps(base.model_dump(mode="json", by_alias=True)),
            tuple(prints.items()),
            functions,
            str(folder.resolve()) if functions and folder is not None else None,
            tuple(datasets),
        )

    @property
    def code_folders(self) -> tuple[str, ...]:
        """The folders of user code (`strategy.path`, an objective's module folder), for
        executors that ship user code to their workers (dask, ray)."""
        path = json.loads(self.run_config_json).get("strategy", {}).get("path")
        folders = [path] if isinstance(path, str) else []
        if self.objective_folder is not None and any(
            user_module_folder(ref.partition(":")[0], (self.objective_folder,))
            for _, ref in self.objective_functions
        ):
            folders.append(self.objective_folder)
        return tuple(folders)

    def trial_config(
        self, spec: TrialSpec, parsed: Mapping[str, Any] | BaseConfigText | None = None
    ) -> RunConfig:
        """The base with the trial's parameters and its own seed.

        `parsed` is `run_config_json` already parsed (a worker parses it once), or its
        `BaseConfigText`; it is only read: the sections the parameters change are
        copied, the rest shared. Either way the trial's config is validated from the
        same JSON text, so it is the same config (and the same error) as from
        `json.dumps` of the merged mapping.
        """
        text: BaseConfigText | None = None
        base: Mapping[str, Any]
        if isinstance(parsed, BaseConfigText):
            text, base = parsed, parsed.parsed
        else:
            base = parsed if parsed is not None else json.loads(self.run_config_json)
        strategy = base.get("strategy")
        params = spec.params
        if (
            not self.datasets
            and isinstance(strategy, dict)
            and isinstance(strategy.get("params"), dict)
            and all(isinstance(k, str) and k and "." not in k for k in params)
        ):
            # Strategy parameters only (bare names): the strategy section with its params
            # updated, the mapping `apply_overrides` makes below, without its deep copy.
            merged = {**strategy["params"], **params}
            raw = {**base, "strategy": {**strategy, "params": merged}}
        else:
            overrides = trial_overrides(params)
            if self.datasets:  # the data set as resolved in the driver (a relative path absolute)
                index = dataset_index(self.datasets, params[DATA_SOURCE_KEY])
                overrides[DATA_SOURCE_KEY] = self.datasets[index][1]
            # Only the top-level sections a parameter names are deep-copied and changed.
            touched = {key.split(".", 1)[0] for key in overrides}
            changed = apply_overrides({k: base[k] for k in touched if k in base}, overrides)
            raw = {**base, **changed}
        raw["seed"] = spec.seed
        encoded = text.encode(raw) if text is not None else json.dumps(raw)
        return RunConfig.model_validate_json(encoded)

    def trial_data(
        self, spec: TrialSpec, data: MarketData, slices: dict[int, MarketData]
    ) -> tuple[MarketData, dict[str, str]]:
        """The trial's own bars and fingerprints (its data set's, when the space has several)."""
        if not self.datasets:
            return data, dict(self.fingerprints)
        index = dataset_index(self.datasets, spec.params[DATA_SOURCE_KEY])
        if index not in slices:
            slices[index] = dataset_slice(data, index)
        return slices[index], dataset_prints(dict(self.fingerprints), index)


class BacktestTrial:
    """The trial function every executor runs: one backtest in a fresh run scope.

    An object rather than a plain function so that a worker keeps one
    `BacktestCoordinator` (its shared services, parsed blueprint, pooled provider
    graphs) per data set across all the trials it runs, instead of rebuilding them
    per trial. The cache is per instance — a process worker unpickles its own copy
    once; nothing is module-level — and it never crosses a process boundary.
    """

    _MAX_CACHED = 16  # distinct data sets (walk-forward windows, space data sets) per worker

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._coordinators: dict[int, tuple[MarketData, BacktestCoordinator]] = {}
        # The space's data sets sliced out of the shared bars (for the data object `_of`).
        self._of: MarketData | None = None
        self._slices: dict[int, MarketData] = {}
        # The last base config parsed (with its members' JSON text), read-only.
        self._parsed: BaseConfigText | None = None

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

    def _trial_data(
        self, spec: TrialSpec, data: MarketData, base: TrialBase
    ) -> tuple[MarketData, dict[str, str]]:
        with self._lock:
            if self._of is not data:  # new shared bars: the old slices are stale
                self._of, self._slices = data, {}
            return base.trial_data(spec, data, self._slices)

    def _parsed_base(self, base: TrialBase) -> BaseConfigText:
        with self._lock:
            if self._parsed is None or self._parsed.text != base.run_config_json:
                self._parsed = BaseConfigText(base.run_config_json)
            return self._parsed

    def __call__(self, spec: TrialSpec, data: MarketData, base: TrialBase) -> TrialOutput:
        cfg = base.trial_config(spec, self._parsed_base(base))
        bars, prints = self._trial_data(spec, data, base)
        coordinator = self._coordinator(bars, prints)
        result = coordinator.run_backtest(cfg, run_id=f"trial-{spec.trial_id}")
        stats = dict(result.stats)
        if base.objective_functions:
            folders = () if base.objective_folder is None else (base.objective_folder,)
            stats.update(evaluate_functions(base.objective_functions, result.stats, folders))
        # With several data sets, each trial records the fingerprints of the bars it ran on.
        extra = {"data": prints} if base.datasets else {}
        return TrialOutput(stats=stats, digest=result.digest, extra=extra)


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
