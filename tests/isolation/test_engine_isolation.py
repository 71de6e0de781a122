"""Nothing global: runs in parallel threads give exactly what each gives alone."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import numpy as np
import pytest
from backtesting.test import EURUSD, GOOG

from isoloop.backtest import RunOutput
from isoloop.logging import MemorySink
from isoloop.scope import ScopeCoordinator, SharedServices, load_blueprint
from support.harness import make_config, market

MD = market(("GOOG", GOOG), ("EURUSD", EURUSD))


def run_one(coord: ScopeCoordinator, symbol: str, fast: int, slow: int, comm: float) -> RunOutput:
    cfg = make_config(
        data__symbol=symbol,
        strategy__params={"fast": fast, "slow": slow},
        venue__commission=comm,
        venue__cash=100_000.0,
    )
    with coord.scope(
        load_blueprint("backtest"), config=cfg, run_id=f"{symbol}{fast}", log_sink=MemorySink()
    ) as run:
        run.start()
        out: RunOutput = run.get("engine").run()
    return out


def fingerprint(out: RunOutput) -> tuple[str, bytes, int]:
    orders = hashlib.sha256(json.dumps(out.orders, sort_keys=True).encode()).hexdigest()
    return orders, out.equity.tobytes(), len(out.trades)


def test_two_engines_in_two_threads_match_their_solo_runs() -> None:
    coord = ScopeCoordinator(SharedServices(market_data=MD))
    jobs = [("GOOG", 10, 30, 0.0), ("EURUSD", 5, 20, 0.002)]
    try:
        solo = [fingerprint(run_one(coord, *job)) for job in jobs]
        for _ in range(3):
            results: dict[int, Any] = {}
            barrier = threading.Barrier(len(jobs))

            def work(
                k: int,
                job: tuple[str, int, int, float],
                barrier: threading.Barrier,
                results: dict[int, Any],
            ) -> None:
                barrier.wait()
                results[k] = fingerprint(run_one(coord, *job))

            threads = [
                threading.Thread(target=work, args=(k, j, barrier, results))
                for k, j in enumerate(jobs)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert [results[k] for k in range(len(jobs))] == solo
    finally:
        coord.close()


def test_order_ids_are_per_run_and_deterministic() -> None:
    coord = ScopeCoordinator(SharedServices(market_data=MD))
    try:
        a = run_one(coord, "GOOG", 10, 30, 0.0)
        b = run_one(coord, "GOOG", 10, 30, 0.0)
    finally:
        coord.close()
    assert [o["id"] for o in a.orders] == [o["id"] for o in b.orders]
    assert a.orders[0]["id"] == "O0000001"
    assert a.orders == b.orders
    np.testing.assert_array_equal(a.equity, b.equity)


def test_shared_market_data_stays_read_only() -> None:
    coord = ScopeCoordinator(SharedServices(market_data=MD))
    try:
        before = MD["GOOG"].close.copy()
        run_one(coord, "GOOG", 10, 30, 0.0)
    finally:
        coord.close()
    assert not MD["GOOG"].close.flags.writeable
    np.testing.assert_array_equal(MD["GOOG"].close, before)


def test_each_strategy_reads_only_its_own_runs_books_through_its_facade() -> None:
    coord = ScopeCoordinator(SharedServices(market_data=MD))
    bp = load_blueprint("backtest")
    cfg = make_config(data__symbol="GOOG", strategy__params={"fast": 10, "slow": 30})
    try:
        with (
            coord.scope(bp, config=cfg, run_id="a", log_sink=MemorySink()) as a,
            coord.scope(bp, config=cfg, run_id="b", log_sink=MemorySink()) as b,
        ):
            a.start()
            b.start()
            sa, sb = a.get("strategy"), b.get("strategy")
            # Built by the blueprint from the run's slots, the strategy keeps none of them.
            engine_parts = [x.get(n) for x in (a, b) for n in ("execution", "positions", "risk")]
            assert not any(v is p for v in vars(sa).values() for p in engine_parts)
            out = a.get("engine").run()
            assert sa.books.total_cash() == pytest.approx(out.equity_final)
            assert dict(sa.books.cash) == a.get("positions").cash
            assert dict(sb.books.cash) == b.get("positions").cash == {"sim": 10_000.0}
            assert sb.books.working_orders() == ()
    finally:
        coord.close()


def test_per_bar_values_are_built_once_and_no_run_can_change_them() -> None:
    """Runs of one process share the aligned per-bar tuples (built once, kept with the
    data); a run that tries to write them or swap a symbol changes nothing for the next."""
    import pickle

    from isoloop.data import MarketData
    from isoloop.engine import MarketView

    md = MarketData({"GOOG": MD["GOOG"], "EURUSD": MD["EURUSD"]})
    a, b = MarketView(md, "GOOG"), MarketView(md, "GOOG")
    assert a.symbols["GOOG"] is b.symbols["GOOG"] and a.time_ns is b.time_ns
    assert a.symbols is not b.symbols  # each run's own dict
    closes = a.symbols["GOOG"].close_l
    assert closes == tuple(GOOG["Close"].tolist())
    with pytest.raises(TypeError):
        closes[0] = 0.0  # type: ignore[index]
    a.symbols["GOOG"] = a.symbols["EURUSD"]
    assert MarketView(md, "GOOG").symbols["GOOG"].close_l[0] == GOOG["Close"].iloc[0]
    # Another clock is another entry; the union clock carries EURUSD forward.
    u = MarketView(md, "GOOG", clock="union")
    assert len(u) > len(a) and u.symbols["GOOG"] is not a.symbols["GOOG"]
    # What was derived stays in this process: the pickled data carries only the bars.
    copy = pickle.loads(pickle.dumps(md))
    assert list(copy) == list(md) and copy.derived("k", lambda: 1) == 1
    assert MarketView(copy, "GOOG").symbols["GOOG"] is not a.symbols["GOOG"]
    # Growing data (a live feed writes its rows later): each run its own lists, none kept.
    live = MarketData({"GOOG": MD["GOOG"]}, growing=True)
    x, y = MarketView(live, "GOOG"), MarketView(live, "GOOG")
    assert isinstance(x.symbols["GOOG"].close_l, list)
    assert x.symbols["GOOG"].close_l is not y.symbols["GOOG"].close_l
    assert pickle.loads(pickle.dumps(live)).growing
