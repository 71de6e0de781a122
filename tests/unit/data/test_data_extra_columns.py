"""Numeric columns beyond OHLCV (P/E, funding rate, ...) load, fingerprint and stay read-only."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backtesting.test import GOOG

from isoloop.config.models import DataConfig
from isoloop.data import OHLCV_COLUMNS, Bars, fingerprint, load_frame, load_market_data, slice_bars
from isoloop.engine import Strategy
from isoloop.errors import DataError

SECRET = "SECRET_TOKEN=sk-live-7f3a9c0d1e2b4a68"


def goog_with(n: int = 60, **columns: object) -> pd.DataFrame:
    frame = GOOG.iloc[:n].copy()
    for name, values in columns.items():
        frame[name] = values
    return frame


def pe_ratio(n: int = 60) -> np.ndarray:
    # An invented P/E series (what a user's vendor file would add), one value per bar.
    return np.round(20.0 + np.sin(np.arange(n) / 5.0) * 3.0, 4)


def test_extra_numeric_columns_reach_the_bars_case_kept_and_read_only(tmp_path: Path) -> None:
    pe = pe_ratio()
    goog_with(PE=pe, fundingRate=np.linspace(-1e-4, 1e-4, 60)).to_csv(tmp_path / "g.csv")
    symbol, frame = load_frame("csv:g.csv", base_dir=tmp_path)
    assert list(frame.columns) == [*OHLCV_COLUMNS, "PE", "fundingRate"]
    bars = Bars.from_frame(frame, symbol)
    assert list(bars.extra) == ["PE", "fundingRate"]
    np.testing.assert_array_equal(bars.extra["PE"], pe)
    with pytest.raises(ValueError, match="read-only"):
        bars.extra["PE"][0] = 1.0
    # OHLCV are untouched by the extra columns.
    np.testing.assert_array_equal(bars.close, GOOG["Close"].iloc[:60].to_numpy())


def test_empty_cells_of_an_extra_column_are_nan_not_an_error(tmp_path: Path) -> None:
    pe = pe_ratio().astype(object)
    pe[[0, 7]] = None
    goog_with(PE=pe).to_csv(tmp_path / "g.csv")
    _, frame = load_frame(f"csv:{tmp_path / 'g.csv'}")
    assert np.isnan(frame["PE"].iloc[0]) and np.isnan(frame["PE"].iloc[7])
    assert frame["PE"].iloc[1] == pe[1]


def test_parquet_and_dataframe_keep_extra_columns(tmp_path: Path) -> None:
    pe = pe_ratio()
    goog_with(PE=pe).to_parquet(tmp_path / "g.parquet")
    _, frame = load_frame(f"parquet:{tmp_path / 'g.parquet'}")
    np.testing.assert_array_equal(frame["PE"].to_numpy(), pe)


def test_fingerprint_covers_extra_columns_but_not_their_order(tmp_path: Path) -> None:
    pe = pe_ratio()
    goog_with(PE=pe, Funding=pe / 100).to_csv(tmp_path / "a.csv")
    goog_with(Funding=pe / 100, PE=pe).to_csv(tmp_path / "b.csv")
    changed = pe.copy()
    changed[30] += 0.5
    goog_with(PE=changed, Funding=pe / 100).to_csv(tmp_path / "c.csv")
    goog_with().to_csv(tmp_path / "plain.csv")
    a, b, c, plain = (load_frame(f"csv:{tmp_path / n}.csv")[1] for n in ["a", "b", "c", "plain"])
    assert fingerprint(a) == fingerprint(b) == fingerprint(Bars.from_frame(a, "X"))
    assert fingerprint(c) != fingerprint(a)
    # Renaming a column is a different data set too.
    assert fingerprint(a.rename(columns={"PE": "PB"})) != fingerprint(a)
    # OHLCV-only data keeps the fingerprint it always had (the plain OHLCV hash).
    assert fingerprint(plain) != fingerprint(a)
    assert fingerprint(plain) == fingerprint(load_frame("sample:GOOG", end="2004-11-11")[1])


def test_a_text_column_is_ignored_with_one_warning_that_never_quotes_a_secret_header(
    tmp_path: Path,
) -> None:
    frame = goog_with(PE=pe_ratio(), Ticker="GOOG")
    frame[SECRET] = "x"
    frame.to_csv(tmp_path / "g.csv")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, loaded = load_frame(f"csv:{tmp_path / 'g.csv'}")
    assert list(loaded.columns) == [*OHLCV_COLUMNS, "PE"]
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 1, messages
    assert "ignored 2 column(s)" in messages[0]
    assert "column 8 ('Ticker')" in messages[0] and "column 9" in messages[0]
    assert "SECRET" not in messages[0] and "sk-live" not in messages[0]


def test_a_typo_in_a_numeric_extra_column_is_an_error_naming_row_and_column(
    tmp_path: Path,
) -> None:
    pe = pe_ratio().astype(object)
    pe[12] = "21.4x"
    goog_with(PE=pe).to_csv(tmp_path / "g.csv")
    with pytest.raises(DataError, match=r"line 14 \(2004-09-07.*extra column 7 \('PE'\) is not a"):
        load_frame(f"csv:{tmp_path / 'g.csv'}")


def test_two_columns_named_alike_are_an_error(tmp_path: Path) -> None:
    frame = goog_with(PE=pe_ratio())
    frame[" PE"] = pe_ratio()
    frame.to_csv(tmp_path / "g.csv")
    with pytest.raises(DataError, match=r"column 7 \('PE'\) and column 8 .*same name"):
        load_frame(f"csv:{tmp_path / 'g.csv'}")


def test_extra_columns_survive_pickling_and_walk_forward_slices(tmp_path: Path) -> None:
    goog_with(PE=pe_ratio()).to_csv(tmp_path / "g.csv")
    md, prints = load_market_data([DataConfig(source=f"csv:{tmp_path / 'g.csv'}")], None)
    bars = md["g"]
    copy = pickle.loads(pickle.dumps(bars))
    np.testing.assert_array_equal(copy.extra["PE"], bars.extra["PE"])
    assert fingerprint(copy) == prints["g"]
    window = slice_bars(md, 10, 20)["g"]
    np.testing.assert_array_equal(window.extra["PE"], pe_ratio()[10:20])
    assert len(window.extra["PE"]) == len(window) == 10


class BuyWhenCheap(Strategy):
    """Buys 1 unit on the first bar whose P/E is below `below` (reads an extra column)."""

    def init(self) -> None:
        self.cheap = np.flatnonzero(self.data["PE"] < self.params["below"])

    def on_bar(self, i: int) -> None:
        if len(self.cheap) and i == self.cheap[0]:
            self.buy(1)


def test_notebook_backtest_gives_the_strategy_the_frames_extra_columns() -> None:
    import isoloop

    pe = pe_ratio()
    frame = goog_with(PE=pe)
    below = 18.0
    first = int(np.flatnonzero(pe < below)[0])
    result = isoloop.Backtest(frame, BuyWhenCheap, symbol="GOOG", cash=10_000).run(below=below)
    assert int(result.trades["entry_bar"].iloc[0]) == first + 1
    # A different P/E is different data: the fingerprint changes, OHLCV alone does not do it.
    other = isoloop.Backtest(goog_with(PE=pe + 1.0), BuyWhenCheap, symbol="GOOG")
    plain = isoloop.Backtest(goog_with(), BuyWhenCheap, symbol="GOOG")
    fp = isoloop.Backtest(frame, BuyWhenCheap, symbol="GOOG").fingerprint
    assert len({fp, other.fingerprint, plain.fingerprint}) == 3
