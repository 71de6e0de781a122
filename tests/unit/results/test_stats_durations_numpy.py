"""Duration stats computed in integer ns equal pandas' Timedelta arithmetic (the oracle).

backtesting.py rounds durations up to the bars' resolution with `Timedelta.ceil`;
the stats do it without building Timedeltas, so each case is checked against
pandas doing it the slow way, at test time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from isoloop.results.metrics import compute_stats

DAY_NS = 86_400 * 10**9


def _oracle_days(span: pd.Timedelta, period: pd.Timedelta) -> float:
    return float(span.ceil(period.resolution_string).value / DAY_NS)


@pytest.mark.parametrize(
    ("step", "entry_exit"),
    [
        (pd.Timedelta("1h"), [(3, 7), (10, 40)]),
        (pd.Timedelta("90s"), [(0, 5), (6, 7), (20, 59)]),
        (pd.Timedelta("1D"), [(1, 2), (5, 33)]),
        (pd.Timedelta("15min"), [(2, 3)]),
        (pd.Timedelta("250ms"), [(1, 9), (11, 13)]),
    ],
)
def test_trade_durations_round_up_like_pandas(
    step: pd.Timedelta, entry_exit: list[tuple[int, int]]
) -> None:
    n = 60
    # Irregular stamps (a gap every 7 bars) so spans are not whole multiples of the step.
    gaps = np.where(np.arange(n) % 7 == 6, 3, 1)
    index = pd.DatetimeIndex(pd.Timestamp("2021-03-01 09:30:17.123456789") + step * np.cumsum(gaps))
    rng = np.random.default_rng(5)
    equity = 1000 * np.cumprod(1 + rng.normal(0, 0.01, n))
    trades = pd.DataFrame(
        {
            "entry_bar": [e for e, _ in entry_exit],
            "exit_bar": [x for _, x in entry_exit],
            "pnl": rng.normal(0, 5, len(entry_exit)),
            "return_pct": rng.normal(0, 0.01, len(entry_exit)),
            "commission": np.zeros(len(entry_exit)),
        }
    )
    stats = compute_stats(equity, index.to_numpy(), trades, equity)

    period = pd.Series(index[-100:]).diff().median()
    spans = pd.Series([index[x] - index[e] for e, x in entry_exit])
    assert stats["max_trade_duration_days"] == _oracle_days(spans.max(), period)
    assert stats["avg_trade_duration_days"] == _oracle_days(spans.mean(), period)
    assert stats["duration_days"] == (index[-1] - index[0]).value / DAY_NS
    years = ((index[-1] - index[0]).days + (index[-1] - index[0]).seconds / 86_400) / 365.25
    assert stats["cagr_pct"] == pytest.approx(
        ((equity[-1] / equity[0]) ** (1 / years) - 1) * 100, rel=1e-12
    )
