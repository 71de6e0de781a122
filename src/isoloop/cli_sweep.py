"""`isoloop sweep`: run, print, and decide the exit code; plus the CLI's output helpers.

A sweep whose every trial failed exits 1 (`RunFailed`), after printing what it
has (the failure summary by kind, or the one `--json` object); a sweep with some
failed trials exits 0 and prints the same summary after its table. Only the
standard library is imported at module level: `cli` imports this module and
`isoloop --help` must stay quick.
"""

from __future__ import annotations

import json
import math
import numbers
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from isoloop.errors import InputError, RunFailed

if TYPE_CHECKING:
    from rich.console import Console

    from isoloop.sweep.datacache import DataCache
    from isoloop.sweep.loading import LoadedSweep
    from isoloop.sweep.result import SweepResult

__all__ = ["emit_json", "fmt", "jsonable", "sweep_command"]


def fmt(spec: str, value: Any) -> str:
    """`spec.format(value)` as int or float; anything that is not a number as text."""
    try:
        return spec.format(int(value) if spec == "{:d}" else float(value))
    except (TypeError, ValueError):
        return str(value)


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN and ±inf become null (bare `NaN` is not JSON)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):  # NumPy integers too
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    return str(value)


def emit_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(jsonable(obj), sort_keys=True, allow_nan=False) + "\n")


def sweep_command(
    config: Path,
    *,
    overrides: dict[str, Any],
    out: Path,
    as_json: bool,
    retry_failed: bool,
) -> None:
    """Run (or resume) the sweep, write its outputs, print them; raises on failure."""
    from rich.console import Console

    from isoloop.sweep.runner import load_sweep, run_sweep, write_sweep_outputs

    loaded = load_sweep(config, overrides)  # input errors before any worker starts
    cache = _refuse_foreign_outputs(loaded, out)
    console = Console(stderr=True, soft_wrap=True)
    try:
        if as_json or not console.is_terminal:
            result = run_sweep(config, retry_failed=retry_failed, data_cache=cache, **overrides)
        else:
            result = _with_progress(console, config, overrides, retry_failed, cache)
    except InputError:
        raise
    except Exception as exc:
        raise RunFailed(f"{config}: sweep failed: {type(exc).__name__}: {exc}") from exc
    report_path = write_sweep_outputs(result, loaded, out)
    if as_json:
        emit_json(result.to_json())
    else:
        print_sweep(Console(soft_wrap=True), result, loaded, report_path)
    if result.all_failed:
        kinds = ", ".join(f"{f.count} {k}" for k, f in result.failures.items())
        where = "the JSON's `failures`" if as_json else "the failure summary above"
        rerun = "rerun" if result.store is None else "rerun with --retry-failed"
        raise RunFailed(
            f"{config}: sweep {result.sweep_id}: every one of its {result.done} trials failed "
            f"({kinds}); see {where}, fix the cause and {rerun}"
        )


def _refuse_foreign_outputs(loaded: LoadedSweep, out: Path) -> DataCache:
    """Before any trial runs: refuse an output folder another store's sweep wrote.

    The data is loaded here to name the sweep and kept for the run (not read twice).
    """
    from isoloop.results.rundir import check_name, inside
    from isoloop.sweep.backtests import sweep_definition, sweep_id
    from isoloop.sweep.datacache import DataCache
    from isoloop.sweep.driver import sweep_key
    from isoloop.sweep.outputs import check_outputs_owner

    cache = DataCache()
    _, prints = cache.load(loaded)
    if loaded.config.walk_forward is None:  # a walk-forward's id is checked when it is written
        name = sweep_id(loaded, sweep_key(sweep_definition(loaded, prints)))
        store = None if loaded.config.store is None else Path(loaded.config.store)
        check_outputs_owner(inside(out, check_name(name, "sweep id")), store)
    return cache


def _with_progress(
    console: Console,
    config: Path,
    overrides: dict[str, Any],
    retry_failed: bool,
    cache: DataCache,
) -> SweepResult:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from isoloop.sweep.runner import run_sweep

    columns = (
        TextColumn("[bold]sweep"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} done"),
        TextColumn("[red]{task.fields[failed]} failed"),
        TextColumn("{task.fields[running]} running"),
        TimeRemainingColumn(),
        TextColumn("best {task.fields[best]}"),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("sweep", total=None, failed=0, running=0, best="-")

        def on_progress(done: int, failed: int, running: int, total: int, best: Any) -> None:
            shown = "-"
            if best is not None:
                params = " ".join(f"{k}={v}" for k, v in best.params.items())
                shown = f"{best.value:.4g} ({params})"
            progress.update(
                task, completed=done, total=total, failed=failed, running=running, best=shown
            )

        return run_sweep(
            config,
            on_progress=on_progress,
            retry_failed=retry_failed,
            data_cache=cache,
            **overrides,
        )


def _print_pareto(console: Console, result: SweepResult, params: list[str]) -> None:
    """The Pareto front: every trial no other trial beats on every objective, by id."""
    from rich.table import Table

    names = [o.name for o in result.objectives]
    shown = ", ".join(f"{o.name} {o.direction}" for o in result.objectives)
    table = Table(title=f"Pareto front ({len(result.pareto_trials)} trials; {shown})")
    for col in ["trial", *params, *names]:
        table.add_column(col, justify="right", overflow="fold")
    for p in result.pareto_trials:
        table.add_row(
            str(p.trial_id),
            *[str(p.params.get(k, "")) for k in params],
            *[fmt("{:.3f}", p.values[n]) for n in names],
        )
    console.print(table)


def print_sweep(
    console: Console, result: SweepResult, loaded: LoadedSweep, report_path: Path | None
) -> None:
    """The counts, the five best trials, then failures and warnings, digest and paths."""
    from rich.markup import escape

    objectives = loaded.config.objective_list()
    metric = objectives[0].name
    console.print(
        f"sweep {result.sweep_id}: {result.total} trials, {result.done} done, "
        f"{result.failed} failed ({result.executed} run now, {result.resumed} resumed)"
    )
    ok = result.trials[result.trials["status"] == "ok"]
    if len(ok):
        ascending = objectives[0].direction == "minimize"
        top = ok.sort_values([metric, "trial_id"], ascending=[ascending, True]).head(5)
        params = list(loaded.config.space)
        from rich.table import Table

        table = Table(title=f"best trials by {metric}")
        for col in ["trial", *params, metric, "return %", "max DD %", "trades"]:
            table.add_column(col, justify="right", overflow="fold")
        for _, row in top.iterrows():
            table.add_row(
                *[str(row["trial_id"]), *[str(row[f"param.{p}"]) for p in params]],
                *[fmt("{:.3f}", row[c]) for c in (metric, "return_pct", "max_drawdown_pct")],
                fmt("{:d}", row["trades"]),
            )
        console.print(table)
    if len(objectives) > 1:
        _print_pareto(console, result, list(loaded.config.space))
    failures = result.failures
    if failures:
        console.print(f"failed trials by kind ({result.failed} of {result.done}):")
        width = max(len(k) for k in failures)
        for kind, f in failures.items():
            console.print(
                f"  {kind:<{width}}  {f.count:>5}  first: trial {f.first_trial}: "
                f"{escape(f.first_error)}",
                highlight=False,
            )
    for warning in result.warnings:
        console.print(f"warning: {escape(warning)}", highlight=False)
    if result.windows:
        console.print(
            f"walk-forward: {len(result.windows)} windows, out-of-sample equity "
            f"{float(result.oos_equity.iloc[-1]) if result.oos_equity is not None else 0:,.2f}"
        )
    console.print(f"digest  {result.digest}")
    if result.store:
        console.print(f"store   {result.store}")
    if result.optuna_storage:
        console.print(f"optuna  {result.optuna_storage}  (optuna-dashboard opens it)")
    if report_path:
        console.print(f"report  {report_path}")
