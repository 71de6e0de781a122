"""configs/portfolio.yaml through the CLI: one account over GOOG and BTCUSD on a union clock.

The expected cash, positions, fills and equity are worked out here by hand from
the raw bars of the `backtesting` package (never from isoloop's output): the
EqualWeight rules in plain Python, each market order filled at the open of its
own symbol's next bar, commission at the configured rate on every fill, and the
open positions closed at the last bar's open (finalize).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from backtesting.test import BTCUSD, GOOG

from support.cli_run import one_error_line, run_isoloop

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "portfolio.yaml"

pytestmark = pytest.mark.timeout(300)


@dataclass
class Order:
    symbol: str
    qty: int  # signed units
    placed: int  # clock step
    price: float = math.nan
    filled_at: int = -1


def hand_calculation(
    cfg: dict[str, Any],
) -> tuple[list[Order], np.ndarray, float, dict[str, int]]:
    """(orders in placement order, equity per clock step, total commission, units held
    before the final close) for the config's EqualWeight run, from the raw bars."""
    start, end = str(cfg["data"]["start"]), str(cfg["data"]["end"])
    frames = {"BTCUSD": BTCUSD.loc[start:end], "GOOG": GOOG.loc[start:end]}
    invest, every = cfg["strategy"]["params"]["invest"], cfg["strategy"]["params"]["every"]
    rate = cfg["venue"]["commission"]
    cash = float(cfg["venue"]["cash"])
    steps = frames["GOOG"].index.union(frames["BTCUSD"].index)
    units = dict.fromkeys(frames, 0)
    orders: list[Order] = []
    pending: list[Order] = []
    fees = 0.0
    equity = []
    seen = 0
    held_before_close: dict[str, int] = {}

    def fill(order: Order, step: int, price: float) -> None:
        nonlocal cash, fees
        fee = rate * abs(order.qty) * price
        if order.qty > 0:
            # The scenario is meant to need no rejection: the buy must be affordable.
            assert order.qty * price + fee <= cash, "hand calculation: a buy would be rejected"
        cash -= order.qty * price + fee
        fees += fee
        units[order.symbol] += order.qty
        order.price, order.filled_at = price, step

    def last_close(symbol: str, stamp: pd.Timestamp) -> float:
        return float(frames[symbol]["Close"].loc[:stamp].iloc[-1])

    for i, stamp in enumerate(steps):
        # Orders placed on an earlier step fill at the open of their symbol's own bar.
        for order in list(pending):
            if order.placed < i and stamp in frames[order.symbol].index:
                fill(order, i, float(frames[order.symbol]["Open"].loc[stamp]))
                pending.remove(order)
        everyone = all(stamp in f.index for f in frames.values())
        if i >= 1 and everyone:  # the strategy's first call is at step 1
            seen += 1
            if (seen - 1) % every == 0:
                close = {s: float(f["Close"].loc[stamp]) for s, f in frames.items()}
                value = cash + sum(units[s] * close[s] for s in frames)
                budget = value * invest / len(frames)
                waiting = {o.symbol for o in pending}
                diffs = {
                    s: math.floor(budget / close[s]) - units[s]
                    for s in sorted(frames)
                    if s not in waiting
                }
                new = [Order(s, d, i) for s, d in diffs.items() if d < 0]
                spendable = cash * 0.98
                for s, d in diffs.items():
                    buy = min(d, math.floor(spendable / close[s])) if d > 0 else 0
                    if buy > 0:
                        new.append(Order(s, buy, i))
                        spendable -= buy * close[s]
                orders += new
                pending += new
        if i == len(steps) - 1:
            assert not pending, "hand calculation: an order still waits at the end"
            held_before_close = dict(units)
            for symbol in ("GOOG", "BTCUSD"):  # finalize: every position at the last open
                if units[symbol]:
                    final = Order(symbol, -units[symbol], i - 1)
                    fill(final, i, float(frames[symbol]["Open"].loc[stamp]))
                    orders.append(final)
        equity.append(cash + sum(q * last_close(s, stamp) for s, q in units.items() if q))
    return orders, np.asarray(equity), fees, held_before_close


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("portfolio")
    done = run_isoloop("backtest", str(CONFIG), "--out", str(out), "--json", cwd=out)
    assert done.returncode == 0, done.stderr
    return Path(json.loads(done.stdout)["run_dir"])


def test_portfolio_accounting_matches_the_hand_calculation(run_dir: Path) -> None:
    cfg = yaml.safe_load(CONFIG.read_text())
    assert cfg["data"]["clock"] == "union"
    orders, equity, fees, held = hand_calculation(cfg)
    got = [json.loads(line) for line in (run_dir / "orders.jsonl").read_text().splitlines()]

    assert [(o["symbol"], o["status"]) for o in got] == [(o.symbol, "FILLED") for o in orders]
    for mine, theirs in zip(orders, got, strict=True):
        signed = theirs["filled"] * (1 if theirs["side"] == "BUY" else -1)
        assert signed == mine.qty, (mine, theirs)
        assert theirs["avg_price"] == pytest.approx(mine.price, rel=1e-12), (mine, theirs)
        assert theirs["last_fill_bar"] == mine.filled_at, (mine, theirs)
    # Both symbols were really held together, on one account.
    assert held["GOOG"] > 0 and held["BTCUSD"] > 0

    curve = pd.read_csv(run_dir / "equity.csv", index_col="time", parse_dates=True)
    steps = GOOG.loc["2012-02-01":"2013-02-28"].index.union(
        BTCUSD.loc["2012-02-01":"2013-02-28"].index
    )
    assert list(curve.index) == list(steps)  # the union clock: weekend BTCUSD bars included
    np.testing.assert_allclose(curve["equity"].to_numpy(), equity, rtol=1e-9)

    manifest = json.loads((run_dir / "manifest.json").read_text())
    stats = manifest["stats"]
    assert stats["equity_final"] == pytest.approx(equity[-1], rel=1e-9)
    assert stats["commissions"] == pytest.approx(fees, rel=1e-9)
    trades = pd.read_csv(run_dir / "trades.csv")
    assert trades["commission"].sum() == pytest.approx(fees, rel=1e-9)


def test_a_btcusd_weekend_bar_fills_on_the_union_clock(run_dir: Path) -> None:
    got = [json.loads(line) for line in (run_dir / "orders.jsonl").read_text().splitlines()]
    curve = pd.read_csv(run_dir / "equity.csv", index_col="time", parse_dates=True)
    first_btc = next(o for o in got if o["symbol"] == "BTCUSD")
    # Placed on 2012-02-29; BTCUSD's next bar is Saturday 2012-03-31, which GOOG's
    # calendar does not have: it fills there, at that bar's open.
    assert curve.index[first_btc["last_fill_bar"]] == pd.Timestamp("2012-03-31")
    assert first_btc["avg_price"] == BTCUSD["Open"].loc["2012-03-31"]


def test_an_unknown_clock_symbol_is_one_error_line(tmp_path: Path) -> None:
    text = CONFIG.read_text().replace("clock: union", "clock: ETH")
    (tmp_path / "bad.yaml").write_text(text)
    line = one_error_line(run_isoloop("backtest", "bad.yaml", "--out", "out", cwd=tmp_path))
    assert "data.clock: 'ETH' is not a loaded symbol" in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_equity_file_splits_the_account_into_cash_and_each_symbols_value(run_dir: Path) -> None:
    cfg = yaml.safe_load(CONFIG.read_text())
    orders, equity, _, _ = hand_calculation(cfg)
    curve = pd.read_csv(run_dir / "equity.csv", index_col="time", parse_dates=True)
    assert list(curve.columns) == ["equity", "cash", "value:BTCUSD", "value:GOOG"]
    parts = curve["cash"] + curve["value:BTCUSD"] + curve["value:GOOG"]
    np.testing.assert_allclose(parts.to_numpy(), equity, rtol=1e-9)
    frames = {"BTCUSD": BTCUSD, "GOOG": GOOG}
    for step in range(len(curve)):
        stamp = curve.index[step]
        for symbol, frame in frames.items():
            units = sum(o.qty for o in orders if o.symbol == symbol and o.filled_at <= step)
            # Marked at the symbol's last close at or before this step (its own bars only).
            close = frame["Close"].loc[:stamp]
            expected = units * close.iloc[-1] if units else 0.0
            assert curve[f"value:{symbol}"].iloc[step] == pytest.approx(expected, rel=1e-12)


def test_buy_and_hold_is_the_equal_weight_basket_of_both_symbols(run_dir: Path) -> None:
    """The stated benchmark of a several-symbol run: each symbol's return from the
    first bar a strategy could trade (or its own first bar after it) to the end, on
    the union clock, averaged with equal weights — worked out from the raw bars."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    warmup = int(manifest.get("warmup_bars", 0))
    frames = {
        "BTCUSD": BTCUSD.loc["2012-02-01":"2013-02-28"],
        "GOOG": GOOG.loc["2012-02-01":"2013-02-28"],
    }
    steps = frames["GOOG"].index.union(frames["BTCUSD"].index)
    start = steps[warmup]
    returns = []
    for frame in frames.values():
        close = frame["Close"]
        # The base: its last close at or before the start, or its first close after it.
        before = close[close.index <= start]
        first = before.iloc[-1] if len(before) else close.iloc[0]
        returns.append(close.iloc[-1] / first - 1)
    expected = 100 * sum(returns) / len(returns)
    assert manifest["stats"]["buy_hold_return_pct"] == pytest.approx(expected, rel=1e-9)
    # and it is neither symbol alone
    for r in returns:
        assert abs(100 * r - expected) > 1
