"""Digests identify a run's orders, equity and stats, and nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from isoloop.results.digest import canonical_json, run_digest, sweep_digest
from isoloop.results.order_hash import order_list_hash

ORDERS: list[dict[str, Any]] = [
    {"id": "o-1", "side": "buy", "qty": 10, "price": 101.25, "status": "FILLED", "bar": 3},
    {"id": "o-2", "side": "sell", "qty": 10, "price": 0.1 + 0.2, "status": "FILLED", "bar": 9},
    {"id": "o-3", "side": "buy", "qty": 5, "price": float("nan"), "status": "CANCELLED", "bar": 12},
]
EQUITY = np.array([10_000.0, 10_010.5, 9_990.25, 10_100.125])
STATS = {
    "equity_final": 10_100.125,
    "sharpe_ratio": float("nan"),
    "sortino_ratio": float("inf"),
    "trades": 2,
}
TRIALS = [
    {"id": 2, "params": {"fast": 10, "slow": 30}, "status": "done", "digest": "b" * 64},
    {"id": 1, "params": {"fast": 5, "slow": 30}, "status": "done", "digest": "a" * 64},
    {"id": 3, "params": {"fast": 20, "slow": 30}, "status": "failed", "digest": ""},
]

SCRIPT = """
import json, sys
import numpy as np
from isoloop.results.digest import run_digest, sweep_digest
from isoloop.results.order_hash import order_list_hash
d = json.loads(sys.stdin.read())
orders = [{k: (float(v) if k == "price" else v) for k, v in o.items()} for o in d["orders"]]
h = order_list_hash(orders)
stats = {k: float(v) if k != "trades" else v for k, v in d["stats"].items()}
print(json.dumps([h, run_digest(h, np.array(d["equity"]), stats), sweep_digest(d["trials"])]))
"""


def digests() -> list[str]:
    h = order_list_hash(ORDERS)
    return [h, run_digest(h, EQUITY, STATS), sweep_digest(TRIALS)]


@pytest.mark.parametrize("hash_seed", ["0", "4242"])
def test_stable_in_a_fresh_process_with_another_hash_seed(hash_seed: str) -> None:
    payload = json.dumps(
        {
            "orders": [{**o, "price": repr(o["price"])} for o in ORDERS],
            "equity": EQUITY.tolist(),
            "stats": {k: repr(v) if k != "trades" else v for k, v in STATS.items()},
            "trials": TRIALS,
        }
    )
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=payload,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == digests()


def test_hex_sha256() -> None:
    for d in digests():
        assert len(d) == 64
        int(d, 16)


@pytest.mark.parametrize(
    ("index", "field", "value"),
    [
        (0, "qty", 11),
        (1, "price", np.nextafter(0.1 + 0.2, 1.0)),
        (2, "status", "FILLED"),
        (0, "side", "sell"),
        (2, "price", 1.0),
        (1, "extra", None),
    ],
)
def test_any_order_field_change_changes_hashes(index: int, field: str, value: object) -> None:
    changed = [dict(o) for o in ORDERS]
    changed[index][field] = value
    h = order_list_hash(changed)
    assert h != order_list_hash(ORDERS)
    assert run_digest(h, EQUITY, STATS) != run_digest(order_list_hash(ORDERS), EQUITY, STATS)


def test_order_of_orders_matters_but_key_order_does_not() -> None:
    assert order_list_hash(ORDERS[::-1]) != order_list_hash(ORDERS)
    reordered = [dict(reversed(list(o.items()))) for o in ORDERS]
    assert order_list_hash(reordered) == order_list_hash(ORDERS)
    assert order_list_hash(ORDERS[:2]) != order_list_hash(ORDERS)


def test_one_equity_value_or_one_stat_changes_run_digest() -> None:
    h = order_list_hash(ORDERS)
    base = run_digest(h, EQUITY, STATS)
    bumped = EQUITY.copy()
    bumped[2] = np.nextafter(bumped[2], np.inf)
    assert run_digest(h, bumped, STATS) != base
    assert run_digest(h, EQUITY[:-1], STATS) != base
    for key in STATS:
        other = dict(STATS)
        other[key] = 0.5
        assert run_digest(h, EQUITY, other) != base, key
    assert run_digest(h, EQUITY, dict(reversed(list(STATS.items())))) == base
    assert run_digest("0" * 64, EQUITY, STATS) != base
    # A big-endian array holds the same curve: bytes are normalized to little-endian.
    assert run_digest(h, EQUITY.astype(">f8"), STATS) == base


def test_sweep_digest_sorted_by_trial_id_not_arrival_order() -> None:
    base = sweep_digest(TRIALS)
    assert sweep_digest(TRIALS[::-1]) == base
    assert sweep_digest([TRIALS[1], TRIALS[2], TRIALS[0]]) == base
    changed = [dict(t) for t in TRIALS]
    changed[0]["status"] = "failed"
    assert sweep_digest(changed) != base
    changed = [dict(t) for t in TRIALS]
    changed[2]["params"] = {"slow": 30, "fast": 21}
    assert sweep_digest(changed) != base
    assert sweep_digest(TRIALS[:2]) != base
    # Extra bookkeeping (timings, worker names) is not part of the digest.
    assert sweep_digest([{**t, "elapsed": 1.5, "worker": "w7"} for t in TRIALS]) == base


def test_sweep_digest_rejects_bad_trials() -> None:
    with pytest.raises(ValueError, match="lacks digest"):
        sweep_digest([{"id": 1, "params": {}, "status": "done"}])
    with pytest.raises(ValueError, match="unique"):
        sweep_digest([TRIALS[0], TRIALS[0]])


def test_canonical_json_format() -> None:
    text = canonical_json(
        {
            "b": [1, 2.5, float("nan")],
            "a": {"y": float("-inf"), "x": 0.1 + 0.2},
            "c": np.float64(1e-300),
            "d": np.int64(7),
            "e": True,
        }
    )
    assert text == (
        '{"a":{"x":0.30000000000000004,"y":"-Infinity"},"b":[1,2.5,"NaN"],'
        '"c":1e-300,"d":7,"e":true}'
    )
    assert json.loads(text)["a"]["x"] == 0.1 + 0.2
    with pytest.raises(TypeError, match="sets have no canonical order"):
        canonical_json({"s": {1, 2}})
