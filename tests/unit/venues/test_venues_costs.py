"""Cost models: each fee and slippage formula by hand, and as the venue charges it."""

from __future__ import annotations

from typing import Any

import pytest

from isoloop.config.models import SlippageConfig
from isoloop.venues import (
    FixedBpsSlippage,
    FixedCommissionModel,
    NoSlippage,
    PercentCommissionModel,
    PerShareCommissionModel,
    SpreadSlippage,
    TieredCommissionModel,
    VolumeImpactSlippage,
    slippage_from_config,
)
from support.harness import build, make_config, market
from support.scripted import Scripted, frame


def test_percent_commission() -> None:
    assert PercentCommissionModel(0.002).fee(-50, 20.0) == pytest.approx(50 * 20 * 0.002)


def test_per_share_commission_with_minimum() -> None:
    m = PerShareCommissionModel(per_share=0.01, minimum=1.0)
    assert m.fee(50, 20.0) == 1.0  # 0.50 < minimum
    assert m.fee(500, 20.0) == pytest.approx(5.0)


def test_fixed_commission_once_per_order() -> None:
    m = FixedCommissionModel(2.5)
    assert m.fee(10, 99.0, first_fill=True) == 2.5
    assert m.fee(10, 99.0, first_fill=False) == 0.0


def test_tiered_commission_uses_the_rate_of_the_reached_tier() -> None:
    m = TieredCommissionModel(((0.0, 0.003), (10_000.0, 0.002), (100_000.0, 0.001)))
    assert m.fee(10, 100.0) == pytest.approx(1_000 * 0.003)
    assert m.fee(200, 100.0) == pytest.approx(20_000 * 0.002)
    assert m.fee(2_000, 100.0) == pytest.approx(200_000 * 0.001)


def test_slippage_models() -> None:
    assert NoSlippage().adjust(100.0, 1, 10, 1000) == 100.0
    assert FixedBpsSlippage(25).adjust(100.0, 1, 10, 1000) == pytest.approx(100.25)
    assert FixedBpsSlippage(25).adjust(100.0, -1, 10, 1000) == pytest.approx(99.75)
    assert SpreadSlippage(0.002).adjust(100.0, 1, 10, 1000) == pytest.approx(100.1)
    assert SpreadSlippage(0.002).adjust(100.0, -1, 10, 1000) == pytest.approx(99.9)
    # 100 of 1000 units traded: share 0.1, impact 0.5 · 0.1² = 0.5 %
    assert VolumeImpactSlippage(0.5).adjust(100.0, 1, 100, 1000) == pytest.approx(100.5)
    assert VolumeImpactSlippage(0.5).adjust(100.0, -1, 100, 1000) == pytest.approx(99.5)
    assert isinstance(
        slippage_from_config(SlippageConfig(model="fixed_bps", bps=3), 0.0), FixedBpsSlippage
    )


BARS = [(100.0, 101.0, 99.0, 100.0, 1000.0)] * 2 + [
    (100.0, 101.0, 99.0, 100.0, 1000.0),
    (110.0, 111.0, 109.0, 110.0, 1000.0),
    (110.0, 111.0, 109.0, 110.0, 1000.0),
]


def round_trip(**venue: Any) -> tuple[float, Any]:
    """Buy 10 at bar 2's open (100), sell 10 at bar 3's open (110); return the cash change."""
    cfg = make_config(data__symbol="X", **{f"venue__{k}": v for k, v in venue.items()})
    r = build(
        cfg,
        market(("X", frame(BARS))),
        Scripted,
        {"script": {1: lambda s: s.buy(10), 2: lambda s: s.sell(10)}},
    )
    out = r.engine.run()
    return r.venue.cash - 10_000.0, out


@pytest.mark.parametrize(
    ("venue", "expected_fees"),
    [
        ({"commission": 0.001}, 10 * 100 * 0.001 + 10 * 110 * 0.001),
        ({"commission": {"model": "percent", "rate": 0.001}}, 10 * 100 * 0.001 + 10 * 110 * 0.001),
        ({"commission": {"model": "per_share", "per_share": 0.05, "minimum": 1.0}}, 1.0 + 1.0),
        ({"commission": {"model": "per_share", "per_share": 0.5, "minimum": 1.0}}, 5.0 + 5.0),
        ({"commission": {"model": "fixed", "amount": 3.0}}, 6.0),
        (
            {"commission": {"model": "tiered", "tiers": [(0.0, 0.01), (1050.0, 0.001)]}},
            1_000 * 0.01 + 1_100 * 0.001,
        ),
    ],
    ids=["rate", "percent", "per-share-min", "per-share", "fixed", "tiered"],
)
def test_venue_charges_the_configured_commission(
    venue: dict[str, Any], expected_fees: float
) -> None:
    cash_change, out = round_trip(**venue)
    assert cash_change == pytest.approx(10 * (110 - 100) - expected_fees)
    assert out.commissions == pytest.approx(expected_fees)
    assert out.trades["commission"].sum() == pytest.approx(expected_fees)
    assert out.trades["pnl"].iloc[0] == pytest.approx(100 - expected_fees)


@pytest.mark.parametrize(
    ("slippage", "buy_px", "sell_px"),
    [
        ({"model": "fixed_bps", "bps": 10}, 100 * 1.001, 110 * 0.999),
        ({"model": "volume_impact", "coefficient": 100.0}, 100 * 1.01, 110 * 0.99),
    ],
    ids=["fixed-bps", "volume-impact"],
)
def test_venue_applies_the_configured_slippage(
    slippage: dict[str, Any], buy_px: float, sell_px: float
) -> None:
    cash_change, out = round_trip(slippage=slippage)
    assert cash_change == pytest.approx(10 * (sell_px - buy_px))
    assert out.trades["entry_price"].iloc[0] == pytest.approx(buy_px)
    assert out.trades["exit_price"].iloc[0] == pytest.approx(sell_px)


def test_spread_slippage_pays_half_the_spread_each_way() -> None:
    cash_change, _ = round_trip(spread=0.02, slippage={"model": "spread"})
    assert cash_change == pytest.approx(10 * (110 * 0.99 - 100 * 1.01))
