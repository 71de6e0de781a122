"""The `isoloop` command line.

Exit codes: 0 ok, 1 the run failed, 2 invalid input. Invalid input prints one
`error: …` line on stderr and never a traceback; `--json` prints exactly one
JSON object on stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from isoloop.cli_sweep import emit_json as _emit_json
from isoloop.cli_sweep import fmt as _fmt
from isoloop.errors import BlueprintError, InputError, IsoloopError, RunFailed

if TYPE_CHECKING:  # rich is imported where output is printed: `--version` stays quick
    from rich.table import Table

__all__ = ["app", "main"]

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2
# Mapped by class: an input error is the user's to fix (2), a run failure is not (1).
INPUT_ERRORS = (InputError,)

app = typer.Typer(
    name="isoloop",
    help="Isolated backtests, parameter sweeps and live strategies.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
blueprint_app = typer.Typer(
    help="Inspect blueprints: which class fills each slot, in which order.",
    no_args_is_help=True,
)
app.add_typer(blueprint_app, name="blueprint")
# `blueprint show` without --config: a `@config.strategy.class` slot is shown with the
# base class every strategy's constructor comes from.
STRATEGY_STAND_IN = "isoloop.engine.strategy:Strategy"

SUMMARY_KEYS = (
    ("equity_final", "Equity final", "{:,.2f}"),
    ("return_pct", "Return [%]", "{:.2f}"),
    ("buy_hold_return_pct", "Buy & hold [%]", "{:.2f}"),
    ("return_ann_pct", "Return ann. [%]", "{:.2f}"),
    ("sharpe_ratio", "Sharpe", "{:.3f}"),
    ("sortino_ratio", "Sortino", "{:.3f}"),
    ("max_drawdown_pct", "Max drawdown [%]", "{:.2f}"),
    ("trades", "Trades", "{:d}"),
    ("win_rate_pct", "Win rate [%]", "{:.2f}"),
    ("profit_factor", "Profit factor", "{:.3f}"),
    ("sqn", "SQN", "{:.3f}"),
    ("exposure_pct", "Exposure [%]", "{:.2f}"),
    ("commissions", "Commissions", "{:,.2f}"),
)


def _stats_table(title: str, stats: dict[str, Any]) -> Table:
    from rich.table import Table

    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, label, fmt in SUMMARY_KEYS:
        if key in stats:
            table.add_row(label, _fmt(fmt, stats[key]))
    return table


def _version() -> str:
    # The installed metadata, which is also what `isoloop.__version__` reads (the CLI
    # never imports the package's `__init__`, which sits on its own layer).
    from importlib import metadata

    try:
        return metadata.version("isoloop")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"isoloop {_version()}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Isolated backtests, parameter sweeps and live strategies."""


@app.command()
def backtest(
    config: Annotated[Path, typer.Argument(help="Run config YAML.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a key: path.to.key=value (YAML-typed)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Parent folder of the run directory.")] = Path(
        "results"
    ),
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    report: Annotated[bool, typer.Option(help="Write report.html into the run dir.")] = True,
) -> None:
    """Run one backtest and write its run directory."""
    from isoloop.backtest.run import BacktestCoordinator
    from isoloop.config import parse_set_options

    overrides = parse_set_options(set_ or [])
    coordinator = BacktestCoordinator()
    try:
        # The report is written into the staging folder, before the run folder is published.
        result = coordinator.run_backtest(config, out=out, report=report, **overrides)
    except INPUT_ERRORS:
        raise
    except Exception as exc:
        raise RunFailed(f"{config}: run failed: {type(exc).__name__}: {exc}") from exc
    finally:
        coordinator.close()
    report_path = None
    if report and result.run_dir is not None:
        report_path = result.run_dir / "report.html"
    if json_:
        _emit_json(result.to_json())
        return
    from rich.console import Console

    console = Console(soft_wrap=True)
    console.print(f"run     {result.run_id}")
    console.print(_stats_table("backtest summary", result.stats))
    for warning in result.warnings:
        console.print(f"warning: {warning}", markup=False, highlight=False)
    console.print(f"digest  {result.digest}")
    console.print(f"run dir {result.run_dir}")
    if report_path is not None:
        console.print(f"report  {report_path}")


@app.command()
def sweep(
    config: Annotated[Path, typer.Argument(help="Sweep config YAML (kind: sweep).")],
    executor: Annotated[
        str | None, typer.Option(help="serial | thread | process | dask | ray")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Workers (threads or processes).")] = None,
    address: Annotated[
        str | None, typer.Option(help="dask scheduler / ray cluster address (dask, ray only).")
    ] = None,
    store: Annotated[Path | None, typer.Option(help="SQLite store (resumable).")] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Rerun the store's failed trials too.")
    ] = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help="path.to.key=value")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the sweep's report.")] = Path("results"),
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run (or resume) a parameter sweep; every trial in its own scope.

    Exits 1 when every trial failed (after printing the failures by kind).
    """
    from isoloop.cli_sweep import sweep_command
    from isoloop.config import parse_set_options

    overrides = parse_set_options(set_ or [])
    for key, value in (
        ("executor.kind", executor),
        ("executor.workers", workers),
        ("executor.address", address),
        ("store", None if store is None else str(store.resolve())),
    ):
        if value is not None:
            overrides[key] = value
    sweep_command(config, overrides=overrides, out=out, as_json=json_, retry_failed=retry_failed)


@app.command()
def verify(
    run_dir: Annotated[Path, typer.Argument(help="A run directory with manifest.json.")],
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Re-run from the manifest; exit 0 only if the digest matches."""
    from isoloop.backtest.verify import verify_run_dir

    outcome = verify_run_dir(run_dir)
    if json_:
        _emit_json(outcome.to_json())
    else:
        from rich.console import Console

        console = Console(soft_wrap=True)
        if outcome.ok:
            console.print(f"[green]ok[/green] {run_dir}: digest {outcome.digest} reproduced")
        else:
            for line in outcome.differences:
                console.print(f"[red]differs[/red] {line}")
    if not outcome.ok:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def report(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="A run folder (manifest.json), a sweep folder (summary.json) or a sweep store."
        ),
    ],
) -> None:
    """Write the self-contained HTML report from stored results and print its path.

    A run folder or a sweep folder gets report.html; a sweep store (SQLite) gets
    <store stem>.report.html next to it.
    """
    from isoloop.sweep.report_files import report_for_path

    path = report_for_path(run_dir)
    typer.echo(str(path))


@app.command()
def validate(
    config: Annotated[Path, typer.Argument(help="Run or sweep config YAML.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="path.to.key=value")] = None,
) -> None:
    """Check a config, its data and its blueprint without running it."""
    from isoloop.config import parse_set_options
    from isoloop.validate import validate_config_file

    summary = validate_config_file(config, parse_set_options(set_ or []))
    typer.echo(f"ok {config}: {summary}")


@blueprint_app.command("show")
def blueprint_show(
    name: Annotated[str, typer.Argument(help="A blueprint name (backtest, paper, …) or a .yaml.")],
    mermaid: Annotated[bool, typer.Option("--mermaid", help="Print a Mermaid flowchart.")] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            help="A run config: its strategy class fills `@config.` slots, and its "
            "folder's containers/ is searched first."
        ),
    ] = None,
) -> None:
    """Print a blueprint's dependency graph and init order (derived from constructors)."""
    from types import SimpleNamespace

    from isoloop.scope.blueprint import load_blueprint
    from isoloop.scope.describe import describe_blueprint, render_mermaid, render_text

    if config is not None:
        from isoloop.config import load_run_config

        cfg, config_dir = load_run_config(config)
        target: object = cfg
    else:
        target = SimpleNamespace(strategy=SimpleNamespace(class_path=STRATEGY_STAND_IN))
        config_dir = None
    bp = load_blueprint(name, config_dir=config_dir)
    try:
        graph = describe_blueprint(bp, target)
    except BlueprintError as exc:
        hint = "" if config is not None else "; pass --config RUN.yaml to resolve it"
        raise BlueprintError(f"{exc}{hint}") from None
    typer.echo(render_mermaid(graph) if mermaid else render_text(graph), nl=False)


@app.command()
def live(
    target: Annotated[
        str,
        typer.Argument(help="CONFIG to run, or an action: status|pause|resume|stop|start|kill."),
    ],
    name: Annotated[
        str | None, typer.Argument(help="Strategy for pause/resume/stop/kill/status.")
    ] = None,
    for_: Annotated[
        float | None, typer.Option("--for", help="Run SECONDS, then shut down.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    url: Annotated[str | None, typer.Option("--url", help="Control API URL.")] = None,
    token_file: Annotated[
        Path | None, typer.Option("--token-file", help="File holding the API token.")
    ] = None,
    state: Annotated[str, typer.Option("--state", help="kill: HALTED|REDUCING|ACTIVE.")] = "HALTED",
    reason: Annotated[str | None, typer.Option("--reason", help="kill: why (audited).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="pause/resume: every strategy.")] = False,
) -> None:
    """Run paper/live strategies (CONFIG), or control a running manager (ACTION [NAME])."""
    from isoloop.live.control.cli import live_command

    code = live_command(
        target,
        name,
        seconds=for_,
        as_json=json_,
        url=url,
        token_file=token_file,
        state=state,
        reason=reason,
        every=all_,
    )
    raise typer.Exit(code)


@app.command()
def replay(
    state_dir: Annotated[
        Path, typer.Argument(help="A live config's state_dir (or its paper.sqlite/live.sqlite).")
    ],
    names: Annotated[
        list[str] | None, typer.Argument(help="Strategies to replay (default: every recorded one).")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Re-run a recorded paper/live session through a fresh container; exit 0 only if it
    reproduces the recorded orders and fills exactly."""
    from isoloop.live.replay import replay_session

    outcome = replay_session(state_dir, names or ())
    if json_:
        _emit_json(outcome.to_json())
    else:
        from rich.console import Console

        console = Console(soft_wrap=True)
        for o in outcome.outcomes:
            counts = f"{o.bars} bars, {o.orders} orders, {o.fills} fills"
            if o.reproduced:
                console.print(f"[green]reproduced[/green] {o.strategy}: {counts}")
            else:
                console.print(f"[red]differs[/red] {o.strategy} ({counts}): {o.first_difference}")
                for line in o.differences[1:]:
                    console.print(f"  {line}")
    if not outcome.reproduced:
        raise typer.Exit(EXIT_FAILED)


def _error_line(message: str) -> None:
    first = " ".join(str(message).split())
    sys.stderr.write(f"error: {first}\n")


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the process exit code."""
    try:
        # With standalone_mode=False click returns the code of `typer.Exit` instead of exiting.
        code = app(args=argv, prog_name="isoloop", standalone_mode=False)
        if isinstance(code, int):
            return code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        _error_line("aborted")
        return EXIT_FAILED
    except typer.TyperException as exc:
        # Usage errors (unknown command or option, missing argument, bad value).
        message = exc.format_message().strip()
        if type(exc).__name__ == "NoArgsIsHelpError":
            # A bare `isoloop` or group: typer has printed the help, which is the answer.
            if message:
                sys.stderr.write(message + "\n")
        else:
            _error_line(message)
        return EXIT_INPUT
    except INPUT_ERRORS as exc:
        _error_line(str(exc))
        return EXIT_INPUT
    except RunFailed as exc:
        _error_line(str(exc))
        return EXIT_FAILED
    except IsoloopError as exc:
        _error_line(f"run failed: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _error_line("interrupted")
        return 130
    return EXIT_OK


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
