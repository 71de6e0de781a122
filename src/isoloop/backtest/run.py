"""Backtests from config: one run scope per backtest, results, digests, run directories."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from isoloop.backtest.driver import RunOutput
from isoloop.backtest.failure import (
    STATUS_OK,
    Caught,
    error_event_of,
    failed_manifest,
    locate_errors,
    log_error_event,
    publish_failed_run,
    publishes_evidence,
)
from isoloop.backtest.resolve import (
    BACKTEST_SHARED,
    config_hash,
    resolve_sources,
    with_config_source,
)
from isoloop.backtest.trade_arrays import trade_columns
from isoloop.config import RunConfig, load_run_config
from isoloop.config.loading import check_strategy_class
from isoloop.data import MarketData, load_market_data
from isoloop.data.cache import MarketDataCache, process_data_cache
from isoloop.data.gaps import gap_warnings
from isoloop.engine.roles import BACKTEST_ROLES
from isoloop.errors import ConfigError
from isoloop.logging import JsonlFileSink, LogSink
from isoloop.model.modes import ExecutionMode
from isoloop.results.benchmark import basket
from isoloop.results.digest import run_digest
from isoloop.results.metrics import Calendar, compute_stats
from isoloop.results.order_hash import DIGEST_VERSION, order_list_hash_of
from isoloop.results.run_report import report_for_run_dir
from isoloop.results.rundir import (
    check_name,
    discard_staging,
    export_events_csv,
    finalize_run_dir,
    hash_run_files,
    inside,
    staging_dir,
    versions,
    write_manifest,
    write_run_files,
)
from isoloop.results.trades import trades_table
from isoloop.scope import ScopeCoordinator, SharedServices
from isoloop.scope.blueprint import Blueprint
from isoloop.scope.coordinator import DEFAULT_POOL_SIZE
from isoloop.scope.guards import check_class_state, class_state

__all__ = [
    "BACKTEST_SHARED",
    "BacktestCoordinator",
    "BacktestResult",
    "config_hash",
    "resolve_sources",
    "run_backtest",
    "with_config_source",
]


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """What a backtest produced; `digest` covers orders, equity curve and stats.

    `trades` and `equity` are pandas objects built on first use from the engine's
    trades table and the NumPy curve: a sweep trial reads only the stats and the
    digest, and never pays for them.
    """

    run_id: str
    config: RunConfig
    stats: dict[str, float]
    # The engine's output: its trades table (`trade_log`, built on first use; `trades`
    # adds the derived columns) and the equity curve with the bars' datetime64[ns] times.
    output: RunOutput = field(repr=False)
    equity_values: np.ndarray
    index: np.ndarray
    order_list_hash: str
    digest: str
    fingerprints: dict[str, str]
    run_dir: Path | None = None
    warmup_bars: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # `equity` split: cash and each symbol's marked position value (docs/portfolios.md).
    cash: np.ndarray | None = None
    values: Mapping[str, np.ndarray] = field(default_factory=dict)
    # The strategy's declared indicators (`self.I`), for the run folder and report.
    indicators: Mapping[str, Any] = field(default_factory=dict)
    # Found in the run's data before it ran (gaps: isoloop.data.gaps).
    data_warnings: tuple[str, ...] = ()

    @property
    def orders(self) -> list[dict[str, Any]]:
        """Every order's canonical record, in submission order (built on first use)."""
        return self.output.orders

    @property
    def trade_log(self) -> pd.DataFrame:
        """The engine's trades table (`isoloop.engine.trades.TRADE_COLUMNS`)."""
        return self.output.trades

    @cached_property
    def trades(self) -> pd.DataFrame:
        """The closed trades as a run publishes them (`results.trades.trades_table`)."""
        return trades_table(self.trade_log)

    @cached_property
    def equity(self) -> pd.Series:
        """The per-bar account value on the bars' timestamps."""
        return pd.Series(self.equity_values, index=pd.DatetimeIndex(self.index), name="equity")

    @property
    def warnings(self) -> list[str]:
        """What finished but deserves a look: data gaps, orders denied by risk, no trades."""
        found: list[str] = list(self.data_warnings)
        denied = [o for o in self.orders if o.get("status") == "DENIED"]
        if denied:
            found.append(
                f"{len(denied)} of {len(self.orders)} orders were denied by risk (first: order "
                f"{denied[0].get('id')}); see the run's events and check the `risk` settings"
            )
        if not self.output.closed_trades:
            found.append(
                "the run made no trades"
                + (" (every order was denied)" if self.orders and denied == self.orders else "")
            )
        return found

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape of `isoloop backtest`."""
        return {
            "run_id": self.run_id,
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "stats": self.stats,
            "order_list_hash": self.order_list_hash,
            "digest": self.digest,
        }


class BacktestCoordinator:
    """Runs backtests in isolated scopes over shared, read-only market data.

    Give it `shared` services when many runs use the same data (sweep workers);
    without, each run loads its data and builds its shared services itself.
    `strategy_class` fills the strategy slot with that class object instead of
    importing `strategy.class` (a class defined in a notebook need not be importable).
    """

    def __init__(
        self,
        shared: SharedServices | None = None,
        *,
        stop_timeout: float = 5.0,
        strategy_class: type | None = None,
        mode: ExecutionMode = ExecutionMode.BACKTEST_SINGLE,
        pool_size: int = DEFAULT_POOL_SIZE,
        data_cache: MarketDataCache | None = None,
    ):
        self._shared = shared
        # Without `shared`, each run loads its data: through this cache when given.
        self._data_cache = data_cache
        # Where `resolve_sources` found each blueprint name, per (name, folder, cwd).
        self._blueprint_paths: dict[tuple[str, str, str], str] = {}
        self._strategy_class = strategy_class
        self._bound: dict[str, Blueprint] = {}
        # What the runs are, recorded in each run folder's manifest (never hashed).
        self.mode = ExecutionMode(mode)
        # Every slot's class is checked against the backtest roles before a scope builds it.
        self._scopes = (
            ScopeCoordinator(
                shared, stop_timeout=stop_timeout, roles=BACKTEST_ROLES, pool_size=pool_size
            )
            if shared
            else None
        )
        self._stop_timeout = stop_timeout
        self._pool_size = pool_size

    def close(self) -> None:
        if self._scopes is not None:
            self._scopes.close()

    def _scope_coordinator(
        self, config: RunConfig, base_dir: Path
    ) -> tuple[ScopeCoordinator, dict[str, str], bool]:
        if self._scopes is not None:
            prints = dict(self._scopes.shared.get("fingerprints") or {})
            return self._scopes, prints, False
        configs = [config.data, *config.instruments]
        if self._data_cache is not None:
            md, prints = self._data_cache.load(configs, base_dir)
        else:
            md, prints = load_market_data(configs, base_dir)
        shared = SharedServices(market_data=md, fingerprints=prints)
        coordinator = ScopeCoordinator(
            shared, stop_timeout=self._stop_timeout, roles=BACKTEST_ROLES, pool_size=self._pool_size
        )
        return coordinator, prints, True

    def run_backtest(
        self,
        config: str | Path | Mapping[str, Any] | RunConfig,
        *,
        out: Path | None = None,
        run_id: str | None = None,
        log_sink: LogSink | None = None,
        report: bool = True,
        **overrides: Any,
    ) -> BacktestResult:
        """One backtest; with `out`, its run folder `out/<run_id>/` (with `report.html`
        unless `report=False`), published by one rename when every file is written.

        A run that fails (not bad input) publishes its folder too, with
        `"status": "failed"`, its events and the error (`isoloop.backtest.failure`);
        the exception then names that folder and goes on to the caller."""
        cfg, base_dir = load_run_config(config, overrides)
        try:
            cfg = resolve_sources(cfg, base_dir, blueprints=self._blueprint_paths)
        except ConfigError as exc:
            raise with_config_source(exc, config) from None
        # Hashing the config is for the run id and the run folder: a sweep trial has neither.
        chash = config_hash(cfg) if run_id is None or out is not None else ""
        rid = run_id or _default_run_id(cfg, chash, with_time=out is not None)
        final = _run_folder(out, rid) if out is not None else None
        scopes, prints, own = self._scope_coordinator(cfg, base_dir)
        staging = staging_dir(final) if final is not None else None
        sink = log_sink
        if sink is None and staging is not None:
            sink = JsonlFileSink(staging / "events.jsonl")
        caught: Caught = []
        ran = False
        try:
            try:
                result = self._execute(scopes, cfg, rid, sink, prints, caught)
            except ConfigError as exc:
                # Strategy parameters are checked when the strategy is built: name the file.
                raise with_config_source(exc, config) from None
            ran = True  # a failure from here on is in writing the folder: nothing to keep
            if staging is not None and final is not None:
                if sink is not None and log_sink is None:
                    sink.close()
                manifest = _manifest(result, chash, scopes.shared.market_data, self.mode)
                write_run_files(
                    staging,
                    index=result.index,
                    equity=result.equity_values,
                    trades=result.trades,
                    orders=result.orders,
                    cash=result.cash,
                    values=result.values,
                    indicators=result.indicators.values(),
                )
                export_events_csv(staging / "events.jsonl", staging / "events.csv")
                if report:
                    report_for_run_dir(staging, manifest)
                # Every file is complete before it is hashed, and the manifest comes last.
                manifest["files"] = hash_run_files(staging)
                write_manifest(staging, manifest)
                finalize_run_dir(staging, final)
                result = replace(result, run_dir=final)
            return result
        except BaseException as exc:
            failed = error_event_of(exc, caught) if publishes_evidence(exc) and not ran else None
            event = None if failed is None else failed[0]
            if failed is not None and sink is not None:
                log_error_event(sink, rid, failed[1], failed[0])
            if staging is not None:
                if sink is not None and log_sink is None:
                    sink.close()
                if event is not None and final is not None:
                    manifest = failed_manifest(
                        cfg,
                        run_id=rid,
                        config_hash=chash,
                        fingerprints=prints,
                        market_data=scopes.shared.market_data,
                        mode=self.mode,
                        error=event,
                    )
                    publish_failed_run(exc, staging, final, manifest)
                else:
                    discard_staging(staging)
            raise
        finally:
            if own:
                scopes.close()

    def _execute(
        self,
        scopes: ScopeCoordinator,
        cfg: RunConfig,
        rid: str,
        sink: LogSink | None,
        prints: dict[str, str],
        caught: Caught,
    ) -> BacktestResult:
        strategy_cls = self._strategy_class or check_strategy_class(cfg, "config")
        blueprint: Blueprint | str = cfg.container
        if self._strategy_class is not None:
            bound = self._bound.get(cfg.container)
            if bound is None:
                bound = scopes.blueprint(cfg.container).with_classes({"strategy": strategy_cls})
                self._bound[cfg.container] = bound
            blueprint = bound
        before = class_state(strategy_cls)
        with (
            scopes.scope(blueprint, config=cfg, run_id=rid, seed=cfg.seed, log_sink=sink) as run,
            locate_errors(run, caught),
        ):
            if sink is not None and sink.enabled:  # no sink: the scope's NullSink drops it
                run.log.info("run_config", config=cfg.model_dump(mode="json", by_alias=True))
            run.start()
            output = run.get("engine").run()
            warmup = output.warmup_bars
            md = scopes.shared.market_data
            market = getattr(run.get("clock"), "market", None)
            primary = getattr(market, "primary", None)
            # The benchmark on the run's clock (closes carried over bars a symbol did not
            # trade), so buy & hold, alpha and beta line up with the equity curve: the
            # symbol or an equal-weight basket (results/benchmark.py). The clock's index
            # (`output.index`) is shared by every run on it, and so is its calendar.
            calendar = None
            if isinstance(primary, str) and market is not None:
                symbols = market.symbols
                close = basket([symbols[s].close for s in sorted(symbols)], warmup)
                key = ("isoloop.results.metrics.Calendar", market.clock, primary)
                calendar = md.derived(key, lambda: Calendar.of(market.index))
            else:
                close = md[_primary_symbol(cfg, md)].close
            stats = compute_stats(
                output.equity,
                output.index,
                trade_columns(output),
                close,
                warmup_bars=warmup,
                calendar=calendar,
            )
            olh = order_list_hash_of(output.order_book)
            digest = run_digest(olh, output.equity, stats)
            check_class_state(strategy_cls, before, rid)
            run.log.info("run_finished", digest=digest, order_list_hash=olh)
        return BacktestResult(
            run_id=rid,
            config=cfg,
            stats=stats,
            output=output,
            equity_values=output.equity,
            index=output.index,
            order_list_hash=olh,
            digest=digest,
            fingerprints=prints,
            warmup_bars=warmup,
            cash=output.cash,
            values=output.values,
            indicators=output.indicators,
            # A sweep's trials share one MarketData: its gaps are found once.
            data_warnings=md.derived("isoloop.data.gaps", lambda: tuple(gap_warnings(md))),
        )


def _primary_symbol(cfg: RunConfig, md: MarketData) -> str:
    if cfg.data.symbol and cfg.data.symbol in md:
        return cfg.data.symbol
    return next(iter(md))


def _run_folder(out: Path, rid: str) -> Path:
    """`out/<rid>` (or `out` itself when it is already named `rid`), kept inside `out`."""
    if out.name == rid:
        return out
    return inside(out, check_name(rid, "run id"))


def _default_run_id(cfg: RunConfig, chash: str, *, with_time: bool) -> str:
    label = cfg.name or cfg.strategy.class_path.rpartition(":")[2].lower()
    if with_time:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        return f"{label}-{stamp}-{chash[:8]}"
    return f"{label}-{chash[:12]}"


def _manifest(
    result: BacktestResult, chash: str, md: MarketData, mode: ExecutionMode
) -> dict[str, Any]:
    cfg = result.config
    sources = {d.symbol or "": d.source for d in [cfg.data, *cfg.instruments]}
    return {
        "format": 2,
        "run_id": result.run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": STATUS_OK,
        "mode": mode.value,
        "config": cfg.model_dump(mode="json", by_alias=True),
        "config_hash": chash,
        "data": {
            sym: {"fingerprint": fp, "bars": len(md[sym]), "source": sources.get(sym)}
            for sym, fp in result.fingerprints.items()
        },
        "seed": cfg.seed,
        "versions": versions(),
        "warmup_bars": result.warmup_bars,
        "stats": result.stats,
        "digest_version": DIGEST_VERSION,
        "order_list_hash": result.order_list_hash,
        "digest": result.digest,
        "orders": len(result.output.order_book),
        "trades": len(result.output.closed_trades),
        "warnings": result.warnings,
    }


def run_backtest(
    config: str | Path | Mapping[str, Any] | RunConfig,
    *,
    out: Path | str | None = None,
    report: bool = True,
    **overrides: Any,
) -> BacktestResult:
    """Run one backtest; `overrides` use dotted keys (`**{"strategy.params.fast": 12}`).

    With `out`, the run folder `out/<run_id>/` is written (`report.html` included
    unless `report=False`). The loaded data is kept for the next call over the same,
    unchanged data (`isoloop.data.cache.process_data_cache`)."""
    coordinator = BacktestCoordinator(data_cache=process_data_cache())
    try:
        return coordinator.run_backtest(
            config, out=Path(out) if out else None, report=report, **overrides
        )
    finally:
        coordinator.close()
