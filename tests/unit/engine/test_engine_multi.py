"""Several instruments on one clock, and the SmaCross parameter contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtesting.test import GOOG
from hypothesis import given, settings
from hypothesis import strategies as st

from isoloop.errors import ConfigError, DataError
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


def _weekend_symbol() -> pd.DataFrame:
    """Bars on Saturdays (never a GOOG day) and on some Mondays (GOOG days), with a P/E."""
    stamps = pd.DatetimeIndex(["2004-08-21", "2004-08-23", "2004-08-28", "2004-09-04"])
    return pd.DataFrame(
        {
            "Open": [10.0, 11.0, 12.0, 13.0],
            "High": [10.5, 11.5, 12.5, 13.5],
            "Low": [9.5, 10.5, 11.5, 12.5],
            "Close": [10.2, 11.2, 12.2, 13.2],
            "Volume": [1.0, 1.0, 1.0, 1.0],
            "PE": [30.0, 31.0, 32.0, 33.0],
        },
        index=stamps,
    )


def test_union_clock_steps_through_every_symbols_timestamps() -> None:
    goog = GOOG.iloc[:15]  # 2004-08-19 .. 2004-09-09, weekdays only
    wkd = _weekend_symbol()
    md = market(("GOOG", goog), ("WKD", wkd))
    r = build(make_config(data__symbol="GOOG", data__clock="union"), md, Scripted, {})
    market_view = r.clock.market
    expected = goog.index.union(wkd.index)
    assert list(pd.DatetimeIndex(market_view.index)) == list(expected)
    assert len(expected) == 15 + 3  # the Monday 2004-08-23 is a GOOG day as well
    assert market_view.primary == "GOOG" and r.strategy.data.symbol == "GOOG"
    g, w = market_view["GOOG"], market_view["WKD"]
    saturday = int(np.flatnonzero(expected == pd.Timestamp("2004-08-21"))[0])
    assert not g.has_bar[saturday] and w.has_bar[saturday]
    # GOOG carries its Friday close into the Saturday step; WKD has nothing before its first bar.
    assert g.close[saturday] == goog["Close"].loc["2004-08-20"]
    assert np.isnan(w.close[0]) and np.isnan(w["PE"][0])
    monday = int(np.flatnonzero(expected == pd.Timestamp("2004-08-25"))[0])
    assert not w.has_bar[monday] and w["PE"][monday] == 31.0  # carried from 2004-08-23


def test_a_symbol_clock_uses_that_symbols_bars() -> None:
    goog = GOOG.iloc[:15]
    wkd = _weekend_symbol()
    md = market(("GOOG", goog), ("WKD", wkd))
    r = build(make_config(data__symbol="GOOG", data__clock="WKD"), md, Scripted, {})
    assert list(pd.DatetimeIndex(r.clock.market.index)) == list(wkd.index)
    assert r.strategy.symbol == "GOOG"
    # GOOG's bar on the WKD Saturday is its Friday bar, carried forward.
    assert r.clock.market["GOOG"].close[0] == goog["Close"].loc["2004-08-20"]


def test_union_clock_fills_each_symbol_on_its_own_bars_and_splits_equity_by_symbol() -> None:
    goog = GOOG.iloc[:15]
    wkd = _weekend_symbol()
    md = market(("GOOG", goog), ("WKD", wkd))
    cfg = make_config(data__symbol="GOOG", data__clock="union", venue__cash=100_000.0)
    index = goog.index.union(wkd.index)
    sat = int(np.flatnonzero(index == pd.Timestamp("2004-08-21"))[0])
    # Placed on Saturday: GOOG fills at Monday's open, WKD at its Monday bar's open too.
    script = {sat: lambda s: (s.buy(10), s.buy(100, symbol="WKD"))[1]}
    r = build(cfg, md, Scripted, {"script": script})
    r.engine._finalize = False
    out = r.engine.run()
    goog_o, wkd_o = out.orders
    monday = sat + 1
    assert index[monday] == pd.Timestamp("2004-08-23")
    assert (goog_o["last_fill_bar"], goog_o["avg_price"]) == (
        monday,
        goog["Open"].loc["2004-08-23"],
    )
    assert (wkd_o["last_fill_bar"], wkd_o["avg_price"]) == (monday, 11.0)
    cash = r.positions.cash_curve()
    values = r.positions.value_curves()
    assert list(values) == ["GOOG", "WKD"]
    last = len(index) - 1
    spent = 10 * goog["Open"].loc["2004-08-23"] + 100 * 11.0
    assert cash[last] == pytest.approx(100_000.0 - spent)
    assert values["GOOG"][last] == pytest.approx(10 * goog["Close"].iloc[-1])
    assert values["WKD"][last] == pytest.approx(100 * 13.2)  # marked at its last close
    assert values["WKD"][sat] == 0.0 and cash[sat] == 100_000.0
    np.testing.assert_allclose(cash + values["GOOG"] + values["WKD"], out.equity, rtol=1e-12)


def test_strategy_reads_extra_columns_of_any_symbol_and_an_unknown_one_is_named() -> None:
    goog = GOOG.iloc[:15].assign(PE=np.arange(15, dtype=float))
    md = market(("GOOG", goog), ("WKD", _weekend_symbol()))
    r = build(make_config(data__symbol="GOOG"), md, Scripted, {})
    s = r.strategy
    np.testing.assert_array_equal(s.data["PE"], np.arange(15.0))
    assert s.data.column("Close") is s.data.close
    assert s.data.columns == ("Open", "High", "Low", "Close", "Volume", "PE")
    assert "PE" in s.data and "pe" not in s.data
    with pytest.raises(ValueError, match="read-only"):
        s.data["PE"][0] = 1.0
    # WKD on GOOG's clock: its P/E carried forward from its last bar.
    wkd_pe = s.market["WKD"]["PE"]
    assert wkd_pe[list(goog.index).index(pd.Timestamp("2004-08-24"))] == 31.0
    with pytest.raises(DataError, match=r"'GOOG' has no data column 'pe' \(extra columns: PE\)"):
        s.data["pe"]


def test_clock_errors_name_the_key() -> None:
    from isoloop.config.models import DataConfig
    from isoloop.data import load_market_data

    with pytest.raises(DataError, match=r"data\.clock: 'BTC' is not a loaded symbol"):
        load_market_data([DataConfig(source="sample:GOOG", clock="BTC")], None)
    with pytest.raises(DataError, match=r"instruments\[0\]\.clock: the run has one clock"):
        load_market_data(
            [DataConfig(source="sample:GOOG"), DataConfig(source="sample:BTCUSD", clock="union")],
            None,
        )


def test_the_primary_symbol_is_the_data_entrys_even_when_another_sorts_first() -> None:
    md = market(("AAA", GOOG.iloc[:10]), ("GOOG", GOOG.iloc[:20]))
    r = build(make_config(data__symbol=None), md, Scripted, {})
    # data.source is sample:GOOG: its bars are GOOG's, though AAA sorts first.
    assert r.strategy.symbol == "GOOG" and len(r.clock.market) == 20


def test_equity_file_gets_cash_and_a_value_column_per_symbol(tmp_path: Path) -> None:
    from isoloop.results.rundir import write_run_files

    goog = GOOG.iloc[:15]
    md = market(("GOOG", goog), ("WKD", _weekend_symbol()))
    cfg = make_config(data__symbol="GOOG", data__clock="union", venue__cash=50_000.0)
    script = {2: lambda s: (s.buy(5), s.buy(50, symbol="WKD"))[1]}
    r = build(cfg, md, Scripted, {"script": script})
    r.engine._finalize = False
    out = r.engine.run()
    write_run_files(
        tmp_path,
        index=out.index,
        equity=out.equity,
        trades=out.trades,
        orders=out.orders,
        cash=r.positions.cash_curve(),
        values=r.positions.value_curves(),
    )
    table = pd.read_csv(tmp_path / "equity.csv", index_col="time", parse_dates=True)
    assert list(table.columns) == ["equity", "cash", "value:GOOG", "value:WKD"]
    np.testing.assert_allclose(
        table["cash"] + table["value:GOOG"] + table["value:WKD"], table["equity"], rtol=1e-12
    )
    held = table.iloc[-1]
    assert held["value:GOOG"] == pytest.approx(5 * goog["Close"].iloc[-1])
    assert held["value:WKD"] == pytest.approx(50 * 13.2)
    assert pd.read_parquet(tmp_path / "equity.parquet").equals(table.astype("float64"))


def test_a_config_without_a_clock_hashes_as_before_the_key_existed() -> None:
    from isoloop.backtest.run import config_hash

    plain = make_config()
    dumped = plain.model_dump(mode="json", by_alias=True)
    # Earlier manifests have no `clock`: their config hash must still match on verify.
    assert "clock" not in dumped["data"]
    assert config_hash(type(plain).model_validate(dumped)) == config_hash(plain)
    union = make_config(data__clock="union")
    again = type(union).model_validate(union.model_dump(mode="json", by_alias=True))
    assert again.data.clock == "union" and config_hash(again) != config_hash(plain)


@settings(max_examples=60, deadline=None)
@given(
    days_a=st.sets(st.integers(0, 40), min_size=1, max_size=25),
    days_b=st.sets(st.integers(0, 40), min_size=1, max_size=25),
)
def test_union_alignment_marks_bars_and_carries_the_last_one(
    days_a: set[int], days_b: set[int]
) -> None:
    from isoloop.engine.market import MarketView

    def bars(days: set[int], base: float) -> pd.DataFrame:
        index = pd.Timestamp("2024-01-01") + pd.to_timedelta(sorted(days), unit="D")
        close = base + np.arange(len(days), dtype=float)
        return pd.DataFrame(
            {
                "Open": close,
                "High": close,
                "Low": close,
                "Close": close,
                "Volume": 1.0,
                "X": close * 10,
            },
            index=index,
        )

    a, b = bars(days_a, 100.0), bars(days_b, 500.0)
    view = MarketView(market(("A", a), ("B", b)), "A", "union")
    stamps = pd.DatetimeIndex(view.index)
    assert list(stamps) == sorted(set(a.index) | set(b.index))
    for name, frame in (("A", a), ("B", b)):
        sym = view[name]
        for i, stamp in enumerate(stamps):
            assert bool(sym.has_bar[i]) == (stamp in frame.index)
            before = frame.loc[:stamp]
            if before.empty:
                assert np.isnan(sym.close[i]) and np.isnan(sym["X"][i])
            else:
                assert sym.close[i] == before["Close"].iloc[-1]
                assert sym["X"][i] == before["X"].iloc[-1]


def test_end_of_run_closes_a_symbol_without_a_bar_at_the_last_step_at_its_last_close() -> None:
    goog = GOOG.iloc[:15]  # ends Thursday 2004-09-09; WKD's last bar is Saturday 2004-09-04
    wkd = _weekend_symbol()
    md = market(("GOOG", goog), ("WKD", wkd))
    cfg = make_config(data__symbol="GOOG", data__clock="union", venue__cash=100_000.0)
    index = goog.index.union(wkd.index)
    sat = int(np.flatnonzero(index == pd.Timestamp("2004-08-21"))[0])
    r = build(cfg, md, Scripted, {"script": {sat: lambda s: s.buy(100, symbol="WKD")}})
    out = r.engine.run()  # finalize on: every position closed at the end
    last = len(index) - 1
    assert not r.clock.market["WKD"].has_bar[last]
    assert r.venue.positions == {"sim:spot:WKD": 0.0}
    (trade,) = out.trades.itertuples()
    # Bought at the Monday open (11.0), closed at the last step at WKD's last close (13.2).
    assert (trade.entry_price, trade.exit_price, trade.exit_bar) == (11.0, 13.2, last)
    assert out.equity[-1] == pytest.approx(100_000.0 + 100 * (13.2 - 11.0))
