"""The notebook API: `Backtest(frame, StrategyClass, **settings)`: `.run`, `.optimize`, `.plot`.

Nothing here is a second engine. A DataFrame of bars goes through the same
validation as a CSV file (`isoloop.data.normalize_frame`) into read-only shared
market data, and every `.run()` is one `BacktestCoordinator` backtest in a fresh
run scope; `.optimize()` is `run_sweep` with an inline sweep config and the same
executors and stores as `isoloop sweep`. The same bars and parameters therefore
give the same digest as the CLI (the data's symbol is part of every order record,
so name it like the CLI does: `symbol="GOOG"` for `sample:GOOG` or `csv:GOOG.csv`).

The strategy class is passed as an object to `.run()`, so one defined in a
notebook cell (even inside a function) runs. `.optimize()` sends a class path to
its trials: the class must be importable by `module:Class` there — a class at the
top level of a notebook (`__main__`) is, for the `serial` and `thread` executors
and for `process` workers forked on Linux; Dask and Ray workers need the class in
an importable module of the user's.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from isoloop.backtest.run import BacktestCoordinator, BacktestResult
from isoloop.config import RunConfig, validate_model
from isoloop.config.classpath import import_class
from isoloop.config.limits import check_limit
from isoloop.config.models import VenueConfig
from isoloop.data import Bars, MarketData, Origin, fingerprint, normalize_frame
from isoloop.engine.strategy import Strategy
from isoloop.errors import BlueprintError, ConfigError, DataError
from isoloop.results.report import RunFacts, write_report
from isoloop.results.rundir import check_name
from isoloop.scope import SharedServices
from isoloop.sweep.config import DATA_SOURCE_KEY
from isoloop.sweep.datacache import DataCache
from isoloop.sweep.loading import LoadedSweep
from isoloop.sweep.objective import function_ref
from isoloop.sweep.result import SweepResult
from isoloop.sweep.run import run_sweep

__all__ = ["Backtest", "NotebookResult", "Report"]

_SOURCE = "dataframe"
_DEFAULT_SYMBOL = "DATA"


def _frame_bars(data: object, symbol: str) -> tuple[pd.DataFrame, Bars, str]:
    """The validated frame, its read-only bars and their fingerprint.

    Numeric columns beyond OHLCV stay (the strategy reads `self.data["PE"]`) and
    count in the fingerprint; a text column is left out with one `UserWarning`.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"Backtest data: expected a pandas DataFrame of bars, got {type(data).__name__}"
        )
    origin = Origin(f"Backtest data ({symbol})")
    check_limit("bars", len(data), origin.name)
    frame = normalize_frame(data, origin)
    bars = Bars.from_frame(frame, symbol)
    return frame, bars, fingerprint(bars)


def _setting_key(name: str) -> str:
    """A keyword setting → the dotted run config key it sets (`cash` → `venue.cash`)."""
    if "." in name or name in RunConfig.model_fields:
        return name
    if name in VenueConfig.model_fields:
        return f"venue.{name}"
    top = ", ".join(RunConfig.model_fields)
    raise ConfigError(
        f"Backtest: unknown setting {name!r}; use a run config key ({top}), "
        f"a venue key ({', '.join(VenueConfig.model_fields)}) or a dotted key "
        '(**{"risk.max_order_size": 100})'
    )


def _commission_setting(value: Any) -> Any:
    """backtesting.py's spellings of `commission`: `(fixed, relative)` and a function.

    A function is recorded by its import path (the run's manifest must name it,
    and sweep trials import it in their own process), so it must be a module-level
    function; a lambda or a nested function is refused."""
    if isinstance(value, tuple | list) and len(value) == 2:
        fixed, relative = value
        return {"model": "fixed_relative", "fixed": fixed, "relative": relative}
    if callable(value) and not isinstance(value, type):
        module = getattr(value, "__module__", None)
        name = getattr(value, "__qualname__", "")
        if not module or not name.isidentifier():
            raise ConfigError(
                f"Backtest: commission={value!r} must be a module-level function in an "
                "importable module (it is recorded as 'module:function' in the run's manifest); "
                "define it in a .py file and import it, or use (fixed, relative)"
            )
        return {"model": "function", "function": f"{module}:{name}"}
    return value


def _set(raw: dict[str, Any], dotted: str, value: Any) -> None:
    node = raw
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"Backtest: {dotted!r}: {part!r} is a value, not a section")
        node = child
    node[parts[-1]] = value


def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__name__}"


def _space_value(name: str, values: Any) -> Any:
    """A space entry as the sweep config writes it (`range(10, 70, 5)` → `{range: [...]}`)."""
    if isinstance(values, range):
        return {"range": [values.start, values.stop, values.step]}
    if isinstance(values, Mapping):
        return dict(values)
    if isinstance(values, list | tuple):
        return list(values)
    raise ConfigError(
        f"Backtest.optimize: {name}={values!r}: give a list of values, a range() "
        "or {'range': [start, stop, step]}"
    )


def _objective_entry(objective: object) -> dict[str, Any]:
    """A stats key, a mapping or a module-level function → a sweep objective entry."""
    where = "Backtest.optimize: the objective"
    if isinstance(objective, str):
        return {"metric": objective}
    if isinstance(objective, Mapping):
        entry = dict(objective)
        if callable(entry.get("function")):
            entry["function"] = function_ref(entry["function"], where=where)
        return entry
    if callable(objective):
        return {"function": function_ref(objective, where=where)}
    raise ConfigError(f"{where}: expected a stats key, a function or a mapping, got {objective!r}")


class Report:
    """An HTML report file; shown inline in Jupyter (an iframe of the report)."""

    def __init__(self, path: Path, height: int = 720) -> None:
        self.path = path
        self.height = height

    def __repr__(self) -> str:
        return f"Report({str(self.path)!r})"

    def _repr_html_(self) -> str:
        document = self.path.read_text(encoding="utf-8")
        return (
            f'<iframe srcdoc="{html.escape(document, quote=True)}" '
            f'style="width:100%;height:{self.height}px;border:0" '
            f'title="{html.escape(self.path.name)}"></iframe>'
        )


class NotebookResult:
    """One `.run()`: stats as a pandas Series, trades and equity as DataFrames.

    `result` is the `BacktestResult` the coordinator returned (its `stats` stays a
    dict, the shape of `isoloop backtest --json`).
    """

    def __init__(self, result: BacktestResult, ohlc: pd.DataFrame) -> None:
        self.result = result
        self._ohlc = ohlc

    @property
    def run_id(self) -> str:
        return self.result.run_id

    @property
    def config(self) -> RunConfig:
        return self.result.config

    @property
    def digest(self) -> str:
        return self.result.digest

    @property
    def order_list_hash(self) -> str:
        return self.result.order_list_hash

    @property
    def fingerprints(self) -> dict[str, str]:
        return dict(self.result.fingerprints)

    @property
    def stats(self) -> pd.Series:
        """The stats (same snake_case keys as the CLI), as a Series named by the run id."""
        return pd.Series(self.result.stats, name=self.result.run_id, dtype="float64")

    @property
    def trades(self) -> pd.DataFrame:
        return self.result.trades.copy()

    @property
    def equity(self) -> pd.DataFrame:
        """Equity per bar and its drawdown from the running peak, in percent."""
        equity = self.result.equity.astype("float64")
        peak = equity.cummax()
        return pd.DataFrame({"equity": equity, "drawdown_pct": (equity / peak - 1.0) * 100.0})

    def plot(self, path: str | Path | None = None) -> Report:
        """Write the HTML report (to `results/<run_id>.html` by default) and return it."""
        out = Path(path) if path is not None else Path("results") / f"{self.run_id}.html"
        res = self.result
        written = write_report(
            out,
            title=f"{res.run_id} — {res.config.strategy.class_path}",
            index=res.equity.index.to_numpy(),
            equity=res.equity.to_numpy(),
            trades=res.trades,
            ohlc=self._ohlc,
            stats=res.stats,
            indicators=list(res.indicators.values()),
            # The run folder's report shows these from its manifest; say the same here.
            facts=RunFacts(
                strategy=res.config.strategy.class_path,
                params=res.config.strategy.params,
                data={
                    sym: {"fingerprint": fp, "bars": len(self._ohlc), "source": "DataFrame"}
                    for sym, fp in res.fingerprints.items()
                },
            ),
            warmup_bars=res.warmup_bars,
        )
        return Report(written)

    def __repr__(self) -> str:
        return f"NotebookResult({self.run_id!r}, digest={self.digest[:12]}…)\n{self.stats}"


class _FrameData(DataCache):
    """Serves the notebook's bars to `run_sweep` in place of loading `data.source`."""

    def __init__(self, data: MarketData, prints: Mapping[str, str]) -> None:
        super().__init__()
        self._data = data
        self._prints = dict(prints)

    def load(self, loaded: LoadedSweep) -> tuple[MarketData, dict[str, str]]:
        return self._data, dict(self._prints)


class Backtest:
    """A strategy class over a DataFrame of bars, run in isolated scopes.

    `data`: OHLCV columns (any case; extra columns are ignored), a DatetimeIndex
    (or a date/datetime/time/timestamp column). `settings` are run config keys:
    a venue key by its name (`cash=`, `commission=`, `spread=`, `slippage=`,
    `fill="close"` or `fill={...}`), a top-level key (`seed=`, `container=`,
    `risk={...}`, `name=`) or any dotted key (`**{"risk.max_order_size": 100}`).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        strategy: type[Strategy],
        *,
        symbol: str | None = None,
        **settings: Any,
    ) -> None:
        if not (isinstance(strategy, type) and issubclass(strategy, Strategy)):
            raise ConfigError(
                f"Backtest: strategy must be a subclass of isoloop.engine.strategy.Strategy, "
                f"got {strategy!r}"
            )
        name = symbol or str(getattr(data, "attrs", {}).get("symbol") or _DEFAULT_SYMBOL)
        self.symbol = check_name(name, "symbol")
        self.strategy = strategy
        self._frame, bars, fp = _frame_bars(data, self.symbol)
        self._market = MarketData({self.symbol: bars})
        self._prints = {self.symbol: fp}
        raw: dict[str, Any] = {
            "strategy": {"class": _class_path(strategy), "params": {}},
            "data": {"source": f"{_SOURCE}:{self.symbol}", "symbol": self.symbol},
        }
        for key, value in settings.items():
            dotted = _setting_key(key)
            if dotted == "venue.fill" and isinstance(value, str):
                dotted = "venue.fill.on"
            _set(raw, dotted, _commission_setting(value) if dotted == "venue.commission" else value)
        self._raw = raw
        self._base = self._config({})
        self._last: NotebookResult | None = None

    @property
    def fingerprint(self) -> str:
        """The data's content fingerprint (equal to the same bars loaded from a file)."""
        return self._prints[self.symbol]

    def _config(self, params: Mapping[str, Any]) -> RunConfig:
        raw = {**self._raw, "strategy": {**self._raw["strategy"], "params": dict(params)}}
        return validate_model(RunConfig, raw, "Backtest")

    def run(self, **params: Any) -> NotebookResult:
        """One backtest with these strategy parameters, in a fresh run scope."""
        cfg = self._config(params)
        shared = SharedServices(market_data=self._market, fingerprints=dict(self._prints))
        coordinator = BacktestCoordinator(shared, strategy_class=self.strategy)
        try:
            result = coordinator.run_backtest(cfg)
        finally:
            coordinator.close()
        self._last = NotebookResult(result, self._frame)
        return self._last

    def plot(self, path: str | Path | None = None) -> Report:
        """The HTML report of the last `.run()` (run with default parameters if none)."""
        last = self._last if self._last is not None else self.run()
        return last.plot(path)

    def sweep_config(
        self,
        space: Mapping[str, Any],
        *,
        constraint: str | None = None,
        objective: str | Mapping[str, Any] | Sequence[Any] = "sharpe_ratio",
        search: Mapping[str, Any] | None = None,
        executor: str = "process",
        workers: int = 2,
        store: str | Path | None = None,
        **executor_settings: Any,
    ) -> dict[str, Any]:
        """The inline sweep config `.optimize()` runs (what a sweep YAML file would hold)."""
        self._check_importable()
        if not space:
            raise ConfigError("Backtest.optimize: give at least one parameter to vary")
        if DATA_SOURCE_KEY in space:
            raise ConfigError(
                f"Backtest.optimize: {DATA_SOURCE_KEY} cannot vary here (the bars are this "
                "Backtest's DataFrame); sweep data sets with a sweep config whose space has "
                f"{DATA_SOURCE_KEY}: [...]"
            )
        many = isinstance(objective, Sequence) and not isinstance(objective, str)
        return {
            "kind": "sweep",
            "base": self._base.model_dump(mode="json", by_alias=True),
            "space": {k: _space_value(k, v) for k, v in space.items()},
            "constraint": constraint,
            ("objectives" if many else "objective"): (
                [_objective_entry(o) for o in objective] if many else _objective_entry(objective)
            ),
            "search": dict(search or {"method": "grid"}),
            "executor": {"kind": executor, "workers": workers, **executor_settings},
            "store": str(Path(store).resolve()) if store is not None else None,
        }

    def optimize(
        self,
        space: Mapping[str, Any] | None = None,
        *,
        constraint: str | None = None,
        objective: str | Mapping[str, Any] | Sequence[Any] = "sharpe_ratio",
        search: Mapping[str, Any] | None = None,
        executor: str = "process",
        workers: int = 2,
        store: str | Path | None = None,
        maximize: str | Callable[..., float] | None = None,
        minimize: str | Callable[..., float] | None = None,
        max_tries: float | None = None,
        **params: Any,
    ) -> SweepResult:
        """A sweep over `space` (or keyword parameters: `fast=[5, 10]`, `slow=range(10, 70, 5)`).

        `constraint` is the sweep's safe expression (`"fast < slow"`); `objective` a
        stats key, `{"metric": ..., "direction": "minimize"}`, or a list of them (a
        Pareto front: `result.pareto`); `maximize=`/`minimize=` a stats key or a
        module-level function of the stats; `max_tries` samples that many grid points
        (a float in (0, 1]: that fraction). `executor` one of serial, thread, process,
        dask, ray; with `store`, an SQLite store that a rerun resumes from. The result
        (`.trials`, `.best`, `.pareto`, `.heatmap(x, y)`, `.digest`) equals
        `isoloop sweep`'s for the same bars, base settings and space.
        """
        merged = {**dict(space or {}), **params}
        if maximize is not None or minimize is not None:
            if maximize is not None and minimize is not None:
                raise ConfigError("Backtest.optimize: give maximize= or minimize=, not both")
            target, direction = (
                (maximize, "maximize") if maximize is not None else (minimize, "minimize")
            )
            objective = {**_objective_entry(target), "direction": direction}
        if max_tries is not None:
            search = {"method": "grid", **dict(search or {}), "max_tries": max_tries}
        config = self.sweep_config(
            merged,
            constraint=constraint,
            objective=objective,
            search=search,
            executor=executor,
            workers=workers,
            store=store,
        )
        return run_sweep(config, data_cache=_FrameData(self._market, self._prints))

    def _check_importable(self) -> None:
        path = _class_path(self.strategy)
        try:
            found = import_class(path, where="Backtest.optimize: the strategy class")
        except BlueprintError:
            found = None
        if found is not self.strategy:
            raise ConfigError(
                f"Backtest.optimize: sweep trials import the strategy by its class path, and "
                f"{path!r} does not name {self.strategy.__qualname__}; define the class at the "
                "top level of the notebook or of a module (for dask and ray: in a module the "
                "workers can import), or use .run() for single backtests"
            )
