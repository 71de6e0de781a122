"""Every behavioural scenario's isoloop digest, as JSON on stdout (a subprocess helper).

Run as `python -m support.scenario_digests MODULE ...` with `tests/` on the path. It
runs each scenario of the parity suite (tests/integration/scenarios, the pending ones
included) through `isoloop.Backtest` with the native strategy and through the
backtesting.py compat layer with the oracle's own strategy code, and prints each run's
digest, order-list hash, final equity and equity curve hash, plus the file each MODULE
was loaded from — so a caller can run it once compiled and once on the pure-Python
sources and compare (tests/reproducibility/test_compiled_pure.py).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pkgutil
import sys
from typing import Any

from integration import scenarios as scenario_pkg
from integration.scenarios.oracle import Scenario, compat_outcome, native_result


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


def run(s: Scenario) -> dict[str, Any]:
    native = native_result(s)
    compat = compat_outcome(s)
    return {
        "native": {
            "digest": native.digest,
            "orders": native.order_list_hash,
            "final_equity": float(native.stats["equity_final"]),
        },
        "compat": {
            "equity": hashlib.sha256(compat.equity.tobytes()).hexdigest(),
            "final_equity": float(compat.stats["equity_final"]),
            "trades": len(compat.trades),
        },
    }


def main() -> None:
    runs = {s.id: run(s) for s in all_scenarios()}
    loaded = {name: importlib.import_module(name).__file__ for name in sys.argv[1:]}
    json.dump({"runs": runs, "loaded": loaded}, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
