"""isoloop: isolated dependency-injection scopes for backtests, sweeps and live trading.

`import isoloop` stays light: the public names below are imported on first use
(PEP 562 module `__getattr__`), so the CLI and a worker process that needs one
part do not pay for pandas, the sweep backends, optuna, plotly or the live stack.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from isoloop.errors import (
    BlueprintError,
    ConfigError,
    DataError,
    IsolationError,
    IsoloopError,
    ScopeError,
)

if TYPE_CHECKING:
    from isoloop.backtest.run import BacktestCoordinator, BacktestResult
    from isoloop.config import RunConfig, load_run_config
    from isoloop.engine.strategy import Strategy
    from isoloop.live import LiveTradingManager
    from isoloop.notebook import Backtest
    from isoloop.scope import (
        Blueprint,
        Health,
        Lifecycle,
        RunScope,
        ScopeCoordinator,
        ScopeState,
        SharedServices,
        load_blueprint,
    )
    from isoloop.sweep.runner import OptimizationExecutor, SweepResult

    __version__: str

__all__ = [
    "Backtest",
    "BacktestCoordinator",
    "BacktestResult",
    "Blueprint",
    "BlueprintError",
    "ConfigError",
    "DataError",
    "Health",
    "IsolationError",
    "IsoloopError",
    "Lifecycle",
    "LiveTradingManager",
    "OptimizationExecutor",
    "RunConfig",
    "RunScope",
    "ScopeCoordinator",
    "ScopeError",
    "ScopeState",
    "SharedServices",
    "SweepResult",
    "__version__",
    "load_blueprint",
    "load_run_config",
    "run_backtest",
    "run_sweep",
]

# Public name -> the module that defines it (imported when the name is first read).
_LAZY = MappingProxyType(
    {
        "Backtest": "isoloop.notebook",
        "BacktestCoordinator": "isoloop.backtest.run",
        "BacktestResult": "isoloop.backtest.run",
        "RunConfig": "isoloop.config",
        "load_run_config": "isoloop.config",
        "LiveTradingManager": "isoloop.live",
        "Blueprint": "isoloop.scope",
        "Health": "isoloop.scope",
        "Lifecycle": "isoloop.scope",
        "RunScope": "isoloop.scope",
        "ScopeCoordinator": "isoloop.scope",
        "ScopeState": "isoloop.scope",
        "SharedServices": "isoloop.scope",
        "load_blueprint": "isoloop.scope",
        "OptimizationExecutor": "isoloop.sweep.runner",
        "SweepResult": "isoloop.sweep.runner",
    }
)


_PARAMS = "strategy.params."


def _is_frame(obj: object) -> bool:
    # A DataFrame exists only once pandas is imported: `import isoloop` stays light.
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(obj, pandas.DataFrame)


def _frame_call(
    what: str, strategy: type[Strategy] | None, overrides: dict[str, Any]
) -> dict[str, Any]:
    """The strategy parameters given as dotted overrides (moved out of `overrides`)."""
    if strategy is None:
        raise ConfigError(
            f"{what}: a DataFrame of bars needs a Strategy class: {what}(frame, MyStrategy, ...)"
        )
    for key in ("out", "report", "retry_failed"):
        if key in overrides:
            raise ConfigError(
                f"{what}: {key}= goes with a config; with a DataFrame use isoloop.Backtest "
                "(.run().plot() writes the report)"
            )
    return {k[len(_PARAMS) :]: overrides.pop(k) for k in list(overrides) if k.startswith(_PARAMS)}


def _config_call(what: str, strategy: object, **frame_only: object) -> None:
    given = [k for k, v in {"strategy": strategy, **frame_only}.items() if v is not None]
    if given:
        raise ConfigError(
            f"{what}: {', '.join(given)} go with a DataFrame of bars; a config names its "
            "strategy in strategy.class and takes dotted overrides"
        )


def run_backtest(
    config: Any,
    strategy: type[Strategy] | None = None,
    /,
    *,
    params: Mapping[str, Any] | None = None,
    symbol: str | None = None,
    **overrides: Any,
) -> BacktestResult:
    """One backtest in its own run scope.

    `config` is a run config — a path, a dict or a `RunConfig` — with `overrides`
    as dotted keys (`**{"strategy.params.fast": 12}`; `out=` writes a run folder).
    Or it is a pandas DataFrame of bars with `strategy` a Strategy class:
    `run_backtest(frame, SmaCross, params={"fast": 10}, symbol="GOOG", cash=10_000)`,
    where `overrides` are the settings `isoloop.Backtest` takes (`strategy.params.*`
    dotted keys count as params). Either way the result is a `BacktestResult` with
    the CLI's digest for the same bars, settings and parameters.
    """
    if _is_frame(config):
        from isoloop.notebook import Backtest

        run_params = {**_frame_call("run_backtest", strategy, overrides), **dict(params or {})}
        assert strategy is not None  # checked by _frame_call
        return Backtest(config, strategy, symbol=symbol, **overrides).run(**run_params).result
    _config_call("run_backtest", strategy, params=params, symbol=symbol)
    from isoloop.backtest.run import run_backtest as run

    return run(config, **overrides)


def run_sweep(
    config: Any,
    strategy: type[Strategy] | None = None,
    /,
    *,
    space: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    symbol: str | None = None,
    **overrides: Any,
) -> SweepResult:
    """A parameter sweep, every trial in its own run scope.

    `config` is a sweep config — a path, a dict or a `SweepConfig` — with `overrides`
    as dotted keys (`**{"executor.kind": "thread"}`, `retry_failed=True`). Or it is
    a pandas DataFrame of bars with `strategy` a Strategy class:
    `run_sweep(frame, SmaCross, space={"fast": [5, 10], "slow": range(20, 40, 10)},
    constraint="fast < slow", settings={"cash": 10_000}, symbol="GOOG")`, where
    `settings` are `isoloop.Backtest`'s and `overrides` are `Backtest.optimize`'s
    keywords (`constraint`, `objective`, `search`, `executor`, `workers`, `store`,
    …). Either way the result is a `SweepResult` with `isoloop sweep`'s digest for
    the same bars, base settings and space.
    """
    if _is_frame(config):
        from isoloop.notebook import Backtest

        _frame_call("run_sweep", strategy, overrides)
        assert strategy is not None  # checked by _frame_call
        if not space:
            raise ConfigError("run_sweep: with a DataFrame, give space={name: values, ...}")
        bt = Backtest(config, strategy, symbol=symbol, **dict(settings or {}))
        return bt.optimize(dict(space), **overrides)
    _config_call("run_sweep", strategy, space=space, settings=settings, symbol=symbol)
    from isoloop.sweep.runner import run_sweep as run

    return run(config, **overrides)


def _version() -> str:
    """The installed distribution's version: `[project].version` is its one source."""
    from importlib import metadata

    try:
        return metadata.version("isoloop")
    except metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'isoloop' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
