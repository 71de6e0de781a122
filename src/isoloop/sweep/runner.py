"""Sweeps of backtests: the sweep config, the trial function, walk-forward, results.

Only a `TrialSpec` (trial id, params, seed) crosses process boundaries per
trial; the base config travels once in the sweep context and the bars through
the executor's data handle (memmap, a Dask task, a Ray object). Each worker
builds its shared services from that handle, and every trial gets a fresh run
scope.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from isoloop.backtest.run import BacktestCoordinator, BacktestResult, resolve_sources
from isoloop.config import RunConfig, apply_overrides, load_run_config, read_yaml, validate_model
from isoloop.data import Bars, MarketData, fingerprint, load_market_data
from isoloop.errors import ConfigError
from isoloop.results.digest import canonical_json
from isoloop.scope import SharedServices
from isoloop.sweep import (
    BestTrial,
    Executor,
    GridSearch,
    ProgressFn,
    SweepConfig,
    SweepOutcome,
    TrialOutput,
    TrialSpec,
    build_search,
    make_executor,
    run_generic_sweep,
    sweep_key,
)

__all__ = [
    "BacktestTrial",
    "LoadedSweep",
    "OptimizationExecutor",
    "SweepResult",
    "WalkForwardWindow",
    "load_sweep",
    "run_sweep",
    "trial_overrides",
    "validate_sweep_file",
]


@dataclass(frozen=True)
class LoadedSweep:
    config: SweepConfig
    base: RunConfig
    base_dir: Path
    source: str


@dataclass(frozen=True)
class WalkForwardWindow:
    """One train/test window of a walk-forward run and its out-of-sample result."""

    window: int
    train: tuple[str, str]
    test: tuple[str, str]
    best_params: dict[str, Any]
    train_value: float | None
    test_stats: dict[str, float]
    test_digest: str


@dataclass(frozen=True, eq=False)
class SweepResult:
    """A finished sweep: every trial (sorted by id), counts, best, digest."""

    sweep_id: str
    trials: pd.DataFrame
    total: int
    done: int
    failed: int
    best: BestTrial | None
    digest: str
    store: Path | None
    resumed: int = 0
    executed: int = 0
    windows: list[WalkForwardWindow] = field(default_factory=list)
    oos_equity: pd.Series | None = None
    report: Path | None = None
    # The best trial's equity curve is re-run on first use (a report needs it, a
    # caller that only wants the table does not pay for it).
    best_equity_fn: Callable[[], pd.Series] | None = field(default=None, repr=False)
    _cache: dict[str, pd.Series] = field(default_factory=dict, repr=False)

    @property
    def best_equity(self) -> pd.Series | None:
        """The best trial's equity curve (computed once, on first access)."""
        if self.best_equity_fn is None:
            return None
        if "best" not in self._cache:
            self._cache["best"] = self.best_equity_fn()
        return self._cache["best"]

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape of `isoloop sweep`."""
        best = (
            None
            if self.best is None
            else {"params": dict(self.best.params), "stats": dict(self.best.stats)}
        )
        out: dict[str, Any] = {
            "sweep_id": self.sweep_id,
            "trials_total": self.total,
            "trials_done": self.done,
            "trials_failed": self.failed,
            "best": best,
            "digest": self.digest,
        }
        return out


def trial_overrides(params: Mapping[str, Any]) -> dict[str, Any]:
    """Space keys → dotted config keys: a bare name is a strategy parameter."""
    return {(k if "." in k else f"strategy.params.{k}"): v for k, v in params.items()}


def load_sweep(
    config: str | Path | Mapping[str, Any] | SweepConfig, overrides: Mapping[str, Any] | None = None
) -> LoadedSweep:
    """Validate a sweep config and its base run config (with their data sources resolved)."""
    if isinstance(config, SweepConfig):
        raw: dict[str, Any] = config.model_dump(mode="python")
        source, folder = "sweep config", Path.cwd()
    elif isinstance(config, Mapping):
        raw, source, folder = dict(config), "sweep config", Path.cwd()
    else:
        path = Path(config)
        raw, source, folder = read_yaml(path), str(path), path.resolve().parent
    if overrides:
        raw = apply_overrides(raw, overrides)
    if raw.get("kind") != "sweep":
        raise ConfigError(f"{source}: kind must be 'sweep' (got {raw.get('kind')!r})")
    cfg = validate_model(SweepConfig, raw, source)
    if isinstance(cfg.base, str):
        base_path = Path(cfg.base)
        if not base_path.is_absolute():
            base_path = folder / base_path
        base, base_dir = load_run_config(base_path)
    else:
        base, base_dir = load_run_config(cfg.base)
        base_dir = folder
    base = resolve_sources(base, base_dir)
    for key in cfg.space:
        dotted = next(iter(trial_overrides({key: None})))
        root = dotted.split(".")[0]
        if root not in RunConfig.model_fields and root != "class":
            raise ConfigError(
                f"{source}: space key {key!r} does not name a run config key ({dotted})"
            )
    store_path = cfg.store
    if store_path is not None and not Path(store_path).is_absolute():
        cfg = cfg.model_copy(update={"store": str((folder / store_path).resolve())})
    return LoadedSweep(cfg, base, base_dir, source)


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

    def __call__(
        self, spec: TrialSpec, data: MarketData, context: Mapping[str, Any]
    ) -> TrialOutput:
        raw = apply_overrides(json.loads(context["base"]), trial_overrides(spec.params))
        raw["seed"] = spec.seed
        cfg = RunConfig.model_validate_json(json.dumps(raw))
        coordinator = self._coordinator(data, context.get("fingerprints") or {})
        result = coordinator.run_backtest(cfg, run_id=f"trial-{spec.trial_id}")
        return TrialOutput(stats=result.stats, digest=result.digest)


def _definition(loaded: LoadedSweep, data_prints: Mapping[str, str]) -> dict[str, Any]:
    cfg = loaded.config
    return {
        "space": cfg.space_mapping(),
        "constraint": cfg.constraint,
        "objective": cfg.objective.model_dump(),
        "search": cfg.search.model_dump(),
        "base": loaded.base.model_dump(mode="json", by_alias=True),
        "data": dict(data_prints),
    }


def _slice(md: MarketData, start: int, stop: int) -> MarketData:
    """Read-only views of every symbol's bars on the primary's bar range [start, stop)."""
    primary = next(iter(md))
    lo, hi = md[primary].index[start], md[primary].index[stop - 1]
    out = {}
    for sym, bars in md.items():
        a = int(np.searchsorted(bars.index, lo, side="left"))
        b = int(np.searchsorted(bars.index, hi, side="right"))
        out[sym] = Bars(
            sym,
            *(getattr(bars, f)[a:b] for f in ("index", "open", "high", "low", "close", "volume")),
        )
    return MarketData(out)


def _params_config(loaded: LoadedSweep, params: Mapping[str, Any]) -> dict[str, Any]:
    """The base run config (JSON form) with one trial's parameters applied."""
    return apply_overrides(
        loaded.base.model_dump(mode="json", by_alias=True), trial_overrides(params)
    )


def _run_params(
    loaded: LoadedSweep,
    params: Mapping[str, Any],
    data: MarketData,
    prints: Mapping[str, str],
    run_id: str,
) -> BacktestResult:
    """One backtest of `params` on `data` in the driver, in its own scope."""
    cfg = RunConfig.model_validate_json(json.dumps(_params_config(loaded, params)))
    coordinator = BacktestCoordinator(SharedServices(market_data=data, fingerprints=dict(prints)))
    try:
        return coordinator.run_backtest(cfg, run_id=run_id)
    finally:
        coordinator.close()


def _best_equity(
    loaded: LoadedSweep, best: BestTrial, data: MarketData, prints: Mapping[str, str]
) -> pd.Series:
    return _run_params(loaded, best.params, data, prints, f"best-{best.trial_id}").equity


def _one_sweep(
    loaded: LoadedSweep,
    data: MarketData,
    prints: Mapping[str, str],
    executor: Executor,
    store: Path | None,
    on_progress: ProgressFn | None,
) -> SweepOutcome:
    cfg = loaded.config
    definition = _definition(loaded, prints)
    context = {
        "base": json.dumps(loaded.base.model_dump(mode="json", by_alias=True)),
        "fingerprints": dict(prints),
    }
    return run_generic_sweep(
        BacktestTrial(),
        data,
        search=build_search(cfg),
        executor=executor,
        definition=definition,
        base_seed=loaded.base.seed,
        metric=cfg.objective.metric,
        direction=cfg.objective.direction,
        store=store,
        context=context,
        timeout_s=cfg.executor.trial_timeout,
        retries=cfg.executor.retries,
        max_in_flight=cfg.executor.max_in_flight,
        on_progress=on_progress,
    )


def run_sweep(
    config: str | Path | Mapping[str, Any] | SweepConfig,
    *,
    on_progress: ProgressFn | None = None,
    executor: Executor | None = None,
    data_cache: dict[Any, tuple[MarketData, dict[str, str]]] | None = None,
    **overrides: Any,
) -> SweepResult:
    """Run (or resume) a sweep; `overrides` use dotted keys (`**{"executor.kind": "thread"}`)."""
    loaded = load_sweep(config, overrides)
    cfg = loaded.config
    data, prints = _load_data(loaded, data_cache)
    own = executor is None
    ex = executor or make_executor(
        cfg.executor.kind,
        workers=cfg.executor.workers,
        address=cfg.executor.address,
        memory_limit_mb=cfg.executor.memory_limit_mb,
        recycle_after=cfg.executor.recycle_after,
    )
    store = Path(cfg.store) if cfg.store else None
    try:
        if cfg.walk_forward is not None:
            return _walk_forward(loaded, data, prints, ex, store, on_progress)
        outcome = _one_sweep(loaded, data, prints, ex, store, on_progress)
    finally:
        if own:
            ex.close()
    best = outcome.best
    return SweepResult(
        sweep_id=_sweep_id(loaded, outcome.sweep_key),
        trials=outcome.trials,
        total=outcome.total,
        done=outcome.done,
        failed=outcome.failed,
        best=outcome.best,
        digest=outcome.sweep_digest,
        store=store,
        resumed=outcome.resumed,
        executed=outcome.executed,
        best_equity_fn=(lambda: _best_equity(loaded, best, data, prints)) if best else None,
    )


def _data_key(loaded: LoadedSweep) -> tuple[Any, ...]:
    """What identifies a sweep's data: each source and window, and a file's size and mtime."""
    parts: list[Any] = []
    for dc in (loaded.base.data, *loaded.base.instruments):
        stamp: tuple[int, int] | None = None
        scheme, _, rest = dc.source.partition(":")
        if scheme in ("csv", "parquet"):
            st = Path(rest).stat()
            stamp = (st.st_size, st.st_mtime_ns)
        parts.append((dc.source, dc.symbol, str(dc.start), str(dc.end), stamp))
    return tuple(parts)


def _load_data(
    loaded: LoadedSweep, cache: dict[Any, tuple[MarketData, dict[str, str]]] | None
) -> tuple[MarketData, dict[str, str]]:
    configs = [loaded.base.data, *loaded.base.instruments]
    if cache is None:
        return load_market_data(configs, None)
    try:
        key = _data_key(loaded)
    except OSError:  # a missing file: let the loader report it properly
        return load_market_data(configs, None)
    if key not in cache:
        cache.clear()  # one data set at a time is what a sweep executor serves
        cache[key] = load_market_data(configs, None)
    return cache[key]


class OptimizationExecutor:
    """Runs sweeps of backtests on one executor whose workers live across sweeps.

    `run_sweep` builds (and closes) an executor from the config each call; this
    keeps one — e.g. a process pool whose workers already imported everything —
    for many sweeps. The executor settings of the configs it runs are ignored.
    """

    def __init__(
        self,
        kind: str = "process",
        *,
        workers: int = 2,
        address: str | None = None,
        memory_limit_mb: float | None = None,
        recycle_after: int | None = None,
    ) -> None:
        self.kind = kind
        # Sweeps over the same data (same sources, windows, file size and mtime) reuse
        # the loaded, validated, fingerprinted bars instead of reading them again.
        self._data: dict[Any, tuple[MarketData, dict[str, str]]] = {}
        self._executor = make_executor(
            kind,
            workers=workers,
            address=address,
            memory_limit_mb=memory_limit_mb,
            recycle_after=recycle_after,
        )

    def run(
        self,
        config: str | Path | Mapping[str, Any] | SweepConfig,
        *,
        on_progress: ProgressFn | None = None,
        **overrides: Any,
    ) -> SweepResult:
        return run_sweep(
            config,
            on_progress=on_progress,
            executor=self._executor,
            data_cache=self._data,
            **overrides,
        )

    def close(self) -> None:
        self._executor.close()

    def __enter__(self) -> OptimizationExecutor:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _sweep_id(loaded: LoadedSweep, key: str) -> str:
    label = loaded.base.name or loaded.base.strategy.class_path.rpartition(":")[2].lower()
    return f"{label}-sweep-{key[:12]}"


def _windows(
    n: int, mode: str, train: int, test: int, step: int
) -> list[tuple[int, int, int, int]]:
    """(train_start, train_stop, test_start, test_stop) bar ranges; stops exclusive."""
    out = []
    start = 0
    while True:
        train_start = 0 if mode == "anchored" else start
        train_stop = start + train
        test_stop = train_stop + test
        if test_stop > n:
            break
        out.append((train_start, train_stop, train_stop, test_stop))
        start += step
    return out


def _walk_forward(
    loaded: LoadedSweep,
    data: MarketData,
    prints: Mapping[str, str],
    executor: Executor,
    store: Path | None,
    on_progress: ProgressFn | None,
) -> SweepResult:
    wf = loaded.config.walk_forward
    assert wf is not None
    primary = data[next(iter(data))]
    windows = _windows(
        len(primary), wf.mode, wf.train_bars, wf.test_bars, wf.step_bars or wf.test_bars
    )
    if not windows:
        raise ConfigError(
            f"{loaded.source}: walk_forward needs train_bars + test_bars <= {len(primary)} bars"
        )
    results: list[WalkForwardWindow] = []
    segments: list[pd.Series] = []
    frames: list[pd.DataFrame] = []
    counts = [0, 0, 0]
    digests = []
    for k, (a, b, c, d) in enumerate(windows):
        train_data = _slice(data, a, b)
        train_prints = {s: fingerprint(bars) for s, bars in train_data.items()}
        window_store = (
            None if store is None else store.with_name(f"{store.stem}-wf{k}{store.suffix}")
        )
        outcome = _one_sweep(loaded, train_data, train_prints, executor, window_store, on_progress)
        counts = [counts[0] + outcome.total, counts[1] + outcome.done, counts[2] + outcome.failed]
        table = outcome.trials.copy()
        table.insert(0, "window", k)
        frames.append(table)
        if outcome.best is None:
            raise ConfigError(f"{loaded.source}: walk-forward window {k} has no successful trial")
        test_data = _slice(data, c, d)
        test_prints = {s: fingerprint(bars) for s, bars in test_data.items()}
        test = _run_params(loaded, outcome.best.params, test_data, test_prints, f"wf{k}-test")
        segments.append(test.equity / test.equity.iloc[0])
        digests.append(
            {"id": k, "params": dict(outcome.best.params), "status": "ok", "digest": test.digest}
        )
        fmt = "%Y-%m-%d %H:%M"
        results.append(
            WalkForwardWindow(
                window=k,
                train=(
                    pd.Timestamp(primary.index[a]).strftime(fmt),
                    pd.Timestamp(primary.index[b - 1]).strftime(fmt),
                ),
                test=(
                    pd.Timestamp(primary.index[c]).strftime(fmt),
                    pd.Timestamp(primary.index[d - 1]).strftime(fmt),
                ),
                best_params=dict(outcome.best.params),
                train_value=outcome.best.value,
                test_stats=test.stats,
                test_digest=test.digest,
            )
        )
    # Stitch: each test window starts where the previous one ended (compounded).
    stitched, level = [], loaded.base.venue.cash
    for seg in segments:
        stitched.append(seg * level)
        level = float(stitched[-1].iloc[-1])
    oos = pd.concat(stitched)
    from isoloop.results.digest import sweep_digest

    return SweepResult(
        sweep_id=_sweep_id(
            loaded,
            sweep_key({"wf": canonical_json(_definition(loaded, prints)), "windows": windows}),
        ),
        trials=pd.concat(frames, ignore_index=True),
        total=counts[0],
        done=counts[1],
        failed=counts[2],
        best=None,
        digest=sweep_digest(digests),
        store=store,
        windows=results,
        oos_equity=oos,
    )


def write_sweep_outputs(result: SweepResult, loaded: LoadedSweep, out: Path) -> Path:
    """`out/<sweep_id>/`: trials.csv, summary.json and report.html; returns the report path."""
    from isoloop.results.sweep_report import write_sweep_report

    folder = out / result.sweep_id
    folder.mkdir(parents=True, exist_ok=True)
    result.trials.to_csv(folder / "trials.csv", index=False)
    summary = result.to_json()
    if result.windows:
        summary["walk_forward"] = [w.__dict__ for w in result.windows]
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str))
    params = [f"param.{k}" for k in loaded.config.space if f"param.{k}" in result.trials.columns]
    best = None
    if result.best is not None:
        best = {"params": dict(result.best.params), "value": result.best.value}
    equity = result.best_equity if result.best_equity is not None else result.oos_equity
    return write_sweep_report(
        folder / "report.html",
        title=f"Sweep {result.sweep_id}",
        trials=result.trials,
        params=params,
        metric=loaded.config.objective.metric,
        best=best,
        best_equity=equity,
    )


def validate_sweep_file(path: Path, overrides: Mapping[str, Any] | None = None) -> str:
    from isoloop.backtest.validate import validate_run_config

    loaded = load_sweep(path, overrides)
    search = build_search(loaded.config)
    # The first grid point (after the constraint) stands for the space, whatever the search.
    grid = GridSearch(loaded.config.search_space(), loaded.config.compiled_constraint())
    first = next(iter(grid.trials()), None)
    if first is None:
        raise ConfigError(f"{path}: the space (after the constraint) has no trials")
    # The first point must make a valid run: config keys, data, blueprint, strategy params.
    try:
        validate_run_config(_params_config(loaded, first[1]))
    except ConfigError as exc:
        raise ConfigError(f"{path}: trial {first[0]} {dict(first[1])}: {exc}") from None
    data, _ = load_market_data([loaded.base.data, *loaded.base.instruments], None)
    bars = ", ".join(f"{s} {len(b)} bars" for s, b in data.items())
    total = getattr(search, "total", None)
    size = f"{total()} trials" if callable(total) else f"{loaded.config.search.method} search"
    return (
        f"sweep of {loaded.base.strategy.class_path} on {bars}: {size}, "
        f"executor {loaded.config.executor.kind}"
    )
