"""Several instruments on one clock, and the SmaCross parameter contract."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from backtesting.test import GOOG

from isoloop.errors import ConfigError
from isoloop.examples.sma_cross import SmaCross
from isoloop.model import StrategyParamError
from support.harness import build, make_config, market
from support.scripted import Scripted


def test_symbols_are_aligned_on_the_primary_clock_and_fill_only_on_their_own_bars() -> None:
    goog = GOOG.iloc[:40]
    other = GOOG.iloc[:40:2] * 2.0  # trades every other day, at twice the price
    md = market(("GOOG", goog), ("TWICE", other))
    cfg = make_config(data__symbol="GOOG", venue__cash=100_000.0)
    script = {
        # placed at bar 2: bar 3 has no TWICE bar, so the fill comes at bar 4's TWICE open
        2: lambda s: (s.buy(10), s.buy(5, symbol="TWICE"))[1],
    }
    r = build(cfg, md, Scripted, {"script": script})
    r.engine._finalize = False
    out = r.engine.run()
    goog_o, twice_o = out.orders
    assert (goog_o["symbol"], goog_o["last_fill_bar"], goog_o["avg_price"]) == (
        "GOOG",
        3,
        goog["Open"].iloc[3],
    )
    assert (twice_o["symbol"], twice_o["last_fill_bar"], twice_o["avg_price"]) == (
        "TWICE",
        4,
        other["Open"].iloc[2],
    )
    assert len(out.index) == 40 and np.array_equal(out.index, md["GOOG"].index)
    # Equity values TWICE at its last known close on bars where it did not trade.
    twice_close = r.clock.market["TWICE"].close
    assert twice_close[5] == twice_close[4] == other["Close"].iloc[2]
    last = 39
    expected = (
        100_000.0
        - 10 * goog["Open"].iloc[3]
        - 5 * other["Open"].iloc[2]
        + 10 * goog["Close"].iloc[last]
        + 5 * twice_close[last]
    )
    assert out.equity[last] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"fast": 30, "slow": 10}, "slow"),
        ({"fast": 10, "slow": 10}, "slow"),
        ({"fast": 0, "slow": 10}, "fast"),
        ({"fast": 2.5, "slow": 10}, "fast"),
        ({"fast": 5, "slow": "20"}, "slow"),
        ({"fast": True, "slow": 20}, "fast"),
        ({"fast": 5, "slow": 20, "signal": 3}, "signal"),
    ],
)
def test_sma_cross_rejects_bad_params_naming_the_parameter(
    params: dict[str, Any], name: str
) -> None:
    with pytest.raises(StrategyParamError, match=rf"strategy\.params\.{name}") as info:
        build(make_config(), market(("GOOG", GOOG)), SmaCross, params)
    assert isinstance(info.value, ConfigError)


def test_strategy_param_error_surfaces_from_the_container() -> None:
    from isoloop.logging import MemorySink
    from isoloop.scope import ScopeCoordinator, SharedServices, load_blueprint

    cfg = make_config(strategy__params={"fast": 30, "slow": 10})
    coord = ScopeCoordinator(SharedServices(market_data=market(("GOOG", GOOG))))
    try:
        with (
            pytest.raises(StrategyParamError, match=r"strategy\.params\.slow: must be greater"),
            coord.scope(
                load_blueprint("backtest"), config=cfg, run_id="bad", log_sink=MemorySink()
            ) as run,
        ):
            run.start()
    finally:
        coord.close()
