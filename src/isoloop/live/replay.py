"""REPLAY: re-run a recorded paper/live session through a fresh container and check that
it reproduces the recorded orders and fills exactly.

What is replayed is what the container committed to its state store: the bars it
processed (bar, time, and the kill switch state each ran under), with the config
and data fingerprints of its starts. A fresh container of the same blueprint and
config (its own empty store in a temporary folder, its own router) processes those
bars in order, one `LiveEngine.step` each, exactly as the running container did;
then its orders (every field of every record) and fills are compared with the
recorded ones, and the first difference is named.

A session that was restarted (a crash, a supervisor restart) is replayed as one
uninterrupted container: the crash-recovery guarantee is that a restart ends with
the orders and fills of an uninterrupted run, so a difference is worth knowing.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from isoloop.config.loading import validate_model
from isoloop.config.models import DataConfig
from isoloop.data import load_market_data
from isoloop.data.fingerprint import fingerprint
from isoloop.engine.risk import KillSwitchState
from isoloop.engine.roles import LIVE_ROLES
from isoloop.errors import ConfigError
from isoloop.live.config import LiveConfig
from isoloop.live.feed import FeedBar, ReplayFeed
from isoloop.live.recording import (
    find_store,
    read_bars,
    read_sessions,
    recorded_accounts,
    snapshot,
)
from isoloop.live.router import OrderRouter
from isoloop.live.slots.engine import LiveEngine
from isoloop.live.slots.store import prepare_store, read_account_rows, store_path
from isoloop.logging import JsonlFileSink
from isoloop.model.modes import ExecutionMode
from isoloop.scope import ScopeCoordinator, SharedServices

__all__ = ["ReplayOutcome", "ReplayReport", "replay_session", "replay_strategy"]

_KILL_STATES: tuple[KillSwitchState, ...] = ("ACTIVE", "HALTED", "REDUCING")


def _kill_state(value: str) -> KillSwitchState:
    """The recorded state as the risk manager's literal (an unknown value counts as ACTIVE)."""
    return next((s for s in _KILL_STATES if s == value), "ACTIVE")


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """One strategy's replay: `differences` is empty when it reproduced."""

    strategy: str
    bars: int
    orders: int  # recorded
    fills: int  # recorded
    replayed_orders: int
    replayed_fills: int
    differences: tuple[str, ...] = ()

    @property
    def reproduced(self) -> bool:
        return not self.differences

    @property
    def first_difference(self) -> str | None:
        return self.differences[0] if self.differences else None

    def to_json(self) -> dict[str, Any]:
        return {
            "reproduced": self.reproduced,
            "bars": self.bars,
            "orders": self.orders,
            "fills": self.fills,
            "replayed_orders": self.replayed_orders,
            "replayed_fills": self.replayed_fills,
            "first_difference": self.first_difference,
            "differences": list(self.differences),
        }


@dataclass(frozen=True, slots=True)
class ReplayReport:
    store: Path
    outcomes: tuple[ReplayOutcome, ...] = field(default_factory=tuple)
    mode: ExecutionMode = ExecutionMode.REPLAY

    @property
    def reproduced(self) -> bool:
        return all(o.reproduced for o in self.outcomes)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": str(self.mode),
            "store": str(self.store),
            "reproduced": self.reproduced,
            "strategies": {o.strategy: o.to_json() for o in self.outcomes},
        }


def replay_session(state: str | Path, strategies: Sequence[str] = ()) -> ReplayReport:
    """Replay every recorded strategy of a state folder (or the named ones).

    `state` is a live config's `state_dir` (or its `paper.sqlite`/`live.sqlite`).
    Bad input (no store, no recorded session, changed data) is a `ConfigError`.
    """
    store = find_store(Path(state))
    known = recorded_accounts(store)
    names = list(strategies) or known
    if not names:
        raise ConfigError(
            f"{store}: no recorded session to replay; sessions are recorded by containers "
            "started by this version of isoloop"
        )
    return ReplayReport(store, tuple(replay_strategy(store, n, known) for n in names))


def _recorded_config(
    store: Path, name: str, known: Sequence[str]
) -> tuple[LiveConfig, dict[str, str]]:
    sessions = read_sessions(store, name)
    if not sessions:
        raise ConfigError(
            f"{store}: no recorded session of strategy {name!r} "
            f"(recorded: {', '.join(known) or 'none'}); name one of those"
        )
    first = sessions[0]
    for s in sessions[1:]:
        if s.config != first.config:
            raise ConfigError(
                f"{store}: strategy {name!r} ran with another config from bar {s.from_bar + 1} "
                f"on (start #{s.seq}); a replay re-runs one config, so it cannot cover this "
                "session"
            )
    raw = json.loads(first.config)
    live = validate_model(LiveConfig, raw, f"{store} (recorded config of {name!r})")
    return live, first.data


def replay_strategy(store: Path, name: str, known: Sequence[str] = ()) -> ReplayOutcome:
    """Replay one strategy's recorded bars through a fresh container; compare."""
    recorded_live, prints = _recorded_config(store, name, known)
    if recorded_live.feed.mode == "exchange":
        raise ConfigError(
            f"strategy {name!r} traded on an exchange feed's candles, which were not stored "
            "as a data source; replay re-runs sessions fed by `feed.mode: replay` only"
        )
    exchange = recorded_live.strategy(name).venue.exchange
    if exchange is not None:
        # Refused before the container is built: building a real exchange's venue
        # already talks to the exchange (markets, account), and a replay must not.
        raise ConfigError(
            f"strategy {name!r} traded on {exchange.id} {exchange.market}, a real exchange; "
            "replay re-runs paper sessions only (a fresh container would place its orders "
            "again)"
        )
    # Bars and account rows from one read transaction: consistent while the session runs.
    with snapshot(store) as db:
        bars = read_bars(store, name, db)
        recorded = read_account_rows(store, name, db)
    f = recorded_live.feed
    md, _ = load_market_data([DataConfig(source=f.source, symbol=f.symbol)], None)
    now = {symbol: fingerprint(md[symbol]) for symbol in md}
    if now != prints:
        raise ConfigError(
            f"feed.source {f.source!r}: the data differs from what strategy {name!r} saw "
            "(data fingerprint changed); replay needs the same bars"
        )
    times = ReplayFeed(md, symbol=f.symbol).times
    for b in bars:
        if b.bar >= len(times) or times[b.bar] != b.time_ns:
            raise ConfigError(
                f"{store}: recorded bar {b.bar} of {name!r} is not in feed.source {f.source!r} "
                "at that time; replay needs the same bars"
            )
    with tempfile.TemporaryDirectory(prefix="isoloop-replay-") as tmp:
        live = recorded_live.model_copy(update={"state_dir": tmp})
        replayed, failure = _run_fresh(live, name, md, bars)
    diffs = _differences(recorded, replayed)
    if failure is not None:
        diffs.insert(0, failure)
    return ReplayOutcome(
        name,
        len(bars),
        len(recorded["orders"]),
        len(recorded["fills"]),
        len(replayed["orders"]),
        len(replayed["fills"]),
        tuple(diffs),
    )


def _run_fresh(
    live: LiveConfig, name: str, md: Any, bars: Sequence[Any]
) -> tuple[dict[str, Any], str | None]:
    """Drive a fresh container over `bars`; its account rows and the failure, if any."""
    path = store_path(live)
    prepare_store(path)
    sink = JsonlFileSink(Path(live.state_dir) / "replay.jsonl")
    coordinator = ScopeCoordinator(
        SharedServices(market_data=md, live=live, router=OrderRouter()),
        stop_timeout=live.shutdown.module_timeout,
        roles=LIVE_ROLES,
    )
    failure: str | None = None
    try:
        with coordinator.scope(
            live.blueprint_for(name),
            config=live.run_config(name),
            run_id=name,
            seed=live.strategy(name).seed,
            log_sink=sink,
        ) as run:
            engine = run.get("engine")
            if not isinstance(engine, LiveEngine):
                raise ConfigError(
                    f"strategy {name!r}: its blueprint's engine slot is not a LiveEngine; "
                    "only live/paper containers can be replayed"
                )
            engine.mode = ExecutionMode.REPLAY
            run.start(timeout=live.shutdown.init_timeout)
            for b in bars:
                kill = _kill_state(b.kill_switch)
                if kill != engine.risk.state:
                    engine.risk.trip(kill, "as recorded for this bar", by="replay")
                try:
                    engine.step(FeedBar(b.bar, b.time_ns))
                except Exception as exc:
                    failure = f"bar {b.bar}: the replay raised {type(exc).__name__}: {exc}"
                    break
        return read_account_rows(path, name), failure
    finally:
        coordinator.close()
        sink.close()


def _where(kind: str, rec: dict[str, Any]) -> tuple[int, str]:
    if kind == "order":
        return int(rec.get("submitted_bar") or 0), f"order {rec.get('id')}"
    return int(rec.get("bar") or 0), f"fill #{rec.get('seq')} (order {rec.get('order_id')})"


def _first(
    kind: str, recorded: list[dict[str, Any]], replayed: list[dict[str, Any]]
) -> tuple[int, str] | None:
    """The first differing record of `kind`: (its bar, a line naming it and the field)."""
    for a, b in zip(recorded, replayed, strict=False):
        if a != b:
            fields = sorted(
                k for k in set(a) | set(b) if a.get(k, "<absent>") != b.get(k, "<absent>")
            )
            bar, what = _where(kind, a)
            more = f" (also: {', '.join(fields[1:])})" if len(fields) > 1 else ""
            key = fields[0]
            return bar, (
                f"{what} at bar {bar}: {key} recorded {a.get(key)!r}, replayed {b.get(key)!r}{more}"
            )
    if len(recorded) != len(replayed):
        n = min(len(recorded), len(replayed))
        longer = recorded if len(recorded) > len(replayed) else replayed
        bar, what = _where(kind, longer[n])
        side = "recorded but not replayed" if longer is recorded else "replayed but not recorded"
        return bar, (
            f"{what} at bar {bar}: {side} ({len(recorded)} {kind}s recorded, "
            f"{len(replayed)} replayed)"
        )
    return None


def _differences(recorded: dict[str, Any], replayed: dict[str, Any]) -> list[str]:
    """Orders and fills first (the earlier bar first), then the account they leave."""
    found = [
        d
        for d in (
            _first("order", recorded["orders"], replayed["orders"]),
            _first("fill", recorded["fills"], replayed["fills"]),
        )
        if d is not None
    ]
    out = [line for _, line in sorted(found, key=lambda d: d[0])]
    if recorded["cash"] != replayed["cash"]:
        out.append(f"cash: recorded {recorded['cash']!r}, replayed {replayed['cash']!r}")
    if recorded["positions"] != replayed["positions"]:
        out.append(
            f"positions: recorded {recorded['positions']!r}, replayed {replayed['positions']!r}"
        )
    return out
