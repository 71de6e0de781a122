"""Every behavioural scenario's isoloop digest, as JSON on stdout (a subprocess helper).

Run as `python -m support.scenario_digests` with `tests/` on the path. It runs each
scenario of the parity suite (tests/integration/scenarios, the pending ones included)
through `isoloop.Backtest` with the native strategy and through the backtesting.py
compat layer with the oracle's own strategy code, and prints each run's digest,
order-list hash and final equity, plus which file each hot-path module was loaded
from — so a caller can run it once compiled and once on the pure-Python sources and
compare (tests/reproducibility/test_compiled_pure.py).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pkgutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import isoloop
from integration import scenarios as scenario_pkg
from integration.scenarios.oracle import BT, Scenario, build, isoloop_settings

HOT = (
    "isoloop.engine.positions",
    "isoloop.model.orders",
    "isoloop.venues.accounting",
    "isoloop.venues.simulated",
    "isoloop.results.digest",
)


def all_scenarios() -> list[Scenario]:
    found: dict[str, Scenario] = {}
    names = [
        f"{scenario_pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(scenario_pkg.__path__)
    ]
    names.append(f"{scenario_pkg.__name__}.pending.pending_scenarios")
    for name in sorted(names):
        module = importlib.import_module(name)
        for value in vars(module).values():
            items = value if isinstance(value, list) else [value]
            for s in items:
                if isinstance(s, Scenario):
                    found.setdefault(s.id, s)
    return [found[k] for k in sorted(found)]


def _record(result: Any) -> dict[str, Any]:
    return {
        "digest": result.digest,
        "orders": result.order_list_hash,
        "final_equity": float(result.stats["equity_final"]),
    }


def run(s: Scenario) -> dict[str, Any]:
    out: dict[str, Any] = {}
    strategies = importlib.import_module("support.scenario_strategies")
    with tempfile.TemporaryDirectory() as tmp:
        settings = isoloop_settings(s.settings, Path(tmp))
        native = isoloop.Backtest(
            s.data(), getattr(strategies, s.strategy), symbol=s.symbol, **settings
        )
        out["native"] = _record(native.run(**s.params))
    compat = importlib.import_module("isoloop.compat.backtesting")
    lib = importlib.import_module("isoloop.compat.backtesting.lib")
    ns = build(compat.Strategy, lib.crossover)
    settings = dict(s.settings)
    settings.setdefault("finalize_trades", True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = compat.Backtest(s.data(), getattr(ns, s.strategy), **settings)
        stats = bt.run(**dict(s.params))
    equity = stats["_equity_curve"]["Equity"].to_numpy(dtype=float)
    out["compat"] = {
        "equity": hashlib.sha256(equity.tobytes()).hexdigest(),
        "final_equity": float(stats["Equity Final [$]"]),
        "trades": int(stats["# Trades"]),
    }
    return out


def main() -> None:
    assert BT is not None  # the oracle's namespace imports cleanly in this interpreter
    runs = {s.id: run(s) for s in all_scenarios()}
    loaded = {name: importlib.import_module(name).__file__ for name in HOT}
    json.dump({"runs": runs, "loaded": loaded}, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
