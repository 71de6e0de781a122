"""`isoloop live`: run a live config, or talk to a running manager's control API.

The first argument picks the mode: one of `status`, `pause`, `resume`, `stop`,
`start`, `kill` is a client action; anything else is a config file to run (a
config file literally named like an action is given as `./status`).
`pause --all` and `resume --all` act on every strategy at once.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from isoloop.errors import ConfigError, ControlError, LiveError
from isoloop.live.control.client import ControlClient, check_url

__all__ = ["ACTIONS", "DEFAULT_URL", "live_command"]

ACTIONS = ("status", "pause", "resume", "stop", "start", "kill")
DEFAULT_URL = "http://127.0.0.1:8765"
TOKEN_ENV = "ISOLOOP_LIVE_TOKEN"
URL_ENV = "ISOLOOP_LIVE_URL"
# DESIGN.md's exit codes: 1 when the action did not happen (no manager answered it).
EXIT_NOT_DONE = 1


def live_command(
    target: str,
    name: str | None = None,
    *,
    seconds: float | None = None,
    as_json: bool = False,
    url: str | None = None,
    token_file: Path | None = None,
    state: str = "HALTED",
    reason: str | None = None,
    every: bool = False,
) -> int:
    if every and (target not in ("pause", "resume") or name is not None):
        raise ConfigError("--all: only `isoloop live pause --all` and `resume --all` take it")
    if target in ACTIONS:
        return client_action(
            target,
            name,
            url=url,
            token_file=token_file,
            state=state,
            reason=reason,
            as_json=as_json,
            every=every,
        )
    if name is not None:
        raise ConfigError(
            f"unexpected argument {name!r}: `isoloop live CONFIG` takes one config; actions are "
            f"{', '.join(ACTIONS)}"
        )
    if seconds is not None and seconds <= 0:
        raise ConfigError(f"--for: must be a positive number of seconds, got {seconds}")
    return run_live(Path(target), seconds=seconds, as_json=as_json)


def _money(value: Any) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _positions(account: dict[str, Any]) -> str:
    held = account.get("positions") or {}
    # `paper:spot:EURUSD` -> `EURUSD 87,879`: the symbol is what an operator scans for.
    return ", ".join(f"{k.rsplit(':', 1)[-1]} {p['qty']:,.6g}" for k, p in sorted(held.items()))


def _state_table(state: dict[str, Any]) -> Table:
    table = Table(
        title=f"isoloop live ({state.get('environment', '?')}) "
        f"kill switch: {state.get('kill_switch', '?')}"
    )
    numeric = ("bar", "equity", "P&L", "orders", "fills", "errors", "restarts")
    for col in (
        "strategy",
        "state",
        "bar",
        "equity",
        "P&L",
        "positions",
        "orders",
        "fills",
        "errors",
        "restarts",
        "kill switch",
    ):
        table.add_column(col, justify="right" if col in numeric else "left")
    for n, s in sorted(state.get("strategies", {}).items()):
        account = s.get("account") or {}
        table.add_row(
            n,
            s["state"],
            str(s["last_bar"]),
            _money(account.get("equity")),
            _money(account.get("pnl")),
            _positions(account) or "flat",
            str(s["orders"]),
            str(s["fills"]),
            str(s["errors"]),
            str(s["restarts"]),
            str(s["kill_switch"]),
        )
    return table


def run_live(path: Path, *, seconds: float | None, as_json: bool) -> int:
    # Imported here: a control action (status, pause, ...) needs only the HTTP client,
    # not the manager, its feeds and pandas (`isoloop live status` starts in ~0.5 s).
    from isoloop.live.config import load_live_config
    from isoloop.live.manager import LiveTradingManager

    cfg = load_live_config(path)
    manager = LiveTradingManager(cfg)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    deadline = None if seconds is None else time.monotonic() + seconds
    console = Console()
    view = sys.stdout.isatty() and not as_json
    try:
        manager.start()
        if view and manager.api is not None:
            # The token goes in the fragment (never sent to the server); not printed here.
            console.print(f"operator page: {manager.api.url}/ui#token=YOUR_API_TOKEN")
        live_view = (
            Live(_state_table(manager.get_state()), console=console, refresh_per_second=4)
            if view
            else None
        )
        if live_view is not None:
            live_view.start()
        try:
            shown = time.monotonic()
            while not stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                # A finite replay ends the run once every container is through it.
                if manager.settled():
                    break
                stop.wait(0.05)
                # The table reads each account from the store: at the view's own rate only.
                if live_view is not None and time.monotonic() - shown >= 0.25:
                    shown = time.monotonic()
                    live_view.update(_state_table(manager.get_state()))
        finally:
            if live_view is not None:
                live_view.stop()
    finally:
        manager.shutdown()
    summary = manager.summary()
    if as_json:
        sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
    else:
        console.print(_state_table(manager.get_state()))
    failed = {n: s for n, s in manager.get_state()["strategies"].items() if s["state"] == "failed"}
    if failed:
        detail = "; ".join(f"{n}: {s['error']}" for n, s in sorted(failed.items()))
        raise LiveError(f"{path}: {len(failed)} strategy container(s) failed: {detail}")
    return 0


def _token(token_file: Path | None) -> str:
    if token_file is not None:
        if not token_file.is_file():
            raise ConfigError(f"--token-file: {token_file} does not exist")
        return token_file.read_text(encoding="utf-8").strip()
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise ConfigError(f"no API token: pass --token-file or set {TOKEN_ENV}")
    return token


def client_action(
    action: str,
    name: str | None,
    *,
    url: str | None,
    token_file: Path | None,
    state: str,
    reason: str | None,
    as_json: bool,
    every: bool = False,
) -> int:
    if action == "kill" and state not in ("ACTIVE", "HALTED", "REDUCING"):
        raise ConfigError(f"--state: must be ACTIVE, HALTED or REDUCING, got {state!r}")
    if action in ("pause", "resume") and name is None and not every:
        raise ConfigError(
            f"`isoloop live {action} NAME`: give the strategy name (or --all for every strategy)"
        )
    if action in ("stop", "start") and name is None:
        raise ConfigError(f"`isoloop live {action} NAME`: give the strategy name")
    if url:
        base = check_url(url, "--url")
    elif os.environ.get(URL_ENV):
        base = check_url(os.environ[URL_ENV], URL_ENV)
    else:
        base = DEFAULT_URL
    client = ControlClient(base, _token(token_file))
    try:
        result = _call(client, action, name, state, reason)
        if action == "status" and name is None and not _is_status(result):
            raise ControlError(
                f"{client.url} answered, but not as an isoloop live control API; check --url"
            )
    except ControlError as exc:
        # The request was well formed but no manager took it: the action did not happen
        # (exit 1). Printed here because there is no run to say "run failed" about.
        sys.stderr.write("error: " + " ".join(str(exc).split()) + "\n")
        return EXIT_NOT_DONE
    if as_json or action != "status" or name is not None:
        sys.stdout.write(json.dumps(result, sort_keys=True, default=str) + "\n")
    else:
        state_view = {
            "environment": result["health"].get("environment", "?"),
            "kill_switch": result["health"]["kill_switch"],
            "strategies": result["strategies"],
        }
        Console().print(_state_table(state_view))
    return 0


def _is_status(result: Any) -> bool:
    health, strategies = result["health"], result["strategies"]
    return isinstance(health, dict) and "kill_switch" in health and isinstance(strategies, dict)


def _call(
    client: ControlClient, action: str, name: str | None, state: str, reason: str | None
) -> Any:
    result: Any
    if action == "status":
        if name is None:
            result = {"health": client.health(), "strategies": client.strategies()}
        else:
            result = client.request("GET", f"/strategies/{name}")
    elif action == "kill":
        result = client.kill(state, name, reason)
    elif name is None:  # pause / resume every strategy
        result = client.request("POST", f"/{action}", {})
    else:
        assert name is not None
        result = client.action(name, action)
    return result
