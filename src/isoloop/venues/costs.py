"""Slippage and commission models, built from the run config's `venue` section.

Each model is a tiny object with one hot method so the venue's fill path calls
it without branching on the model kind per fill.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from isoloop.config.classpath import import_function
from isoloop.config.models import (
    FixedCommission,
    FixedRelativeCommission,
    FunctionCommission,
    PercentCommission,
    PerShareCommission,
    SlippageConfig,
    TieredCommission,
    VenueConfig,
)

__all__ = [
    "CommissionModel",
    "FixedBpsSlippage",
    "FixedCommissionModel",
    "FixedRelativeCommissionModel",
    "FunctionCommissionModel",
    "NoSlippage",
    "PerShareCommissionModel",
    "PercentCommissionModel",
    "SlippageModel",
    "SpreadSlippage",
    "TieredCommissionModel",
    "VolumeImpactSlippage",
    "commission_from_config",
    "slippage_from_config",
]


class CommissionModel(Protocol):
    def fee(self, qty: float, price: float, first_fill: bool) -> float:
        """Fee for a fill of `qty` units at `price`.

        `qty` is signed like backtesting.py's commission argument: the order's size
        for an entry, the closed trade's size for an exit. Most models use |qty|."""
        ...


class SlippageModel(Protocol):
    def adjust(self, price: float, sign: int, qty: float, bar_volume: float) -> float:
        """The executed price for a fill of side `sign` (+1 buy, −1 sell)."""
        ...


@dataclass(frozen=True, slots=True)
class PercentCommissionModel:
    """A rate on traded value, charged on every fill (so at entry and at exit)."""

    rate: float

    def fee(self, qty: float, price: float, first_fill: bool = True) -> float:
        return abs(qty) * price * self.rate


@dataclass(frozen=True, slots=True)
class PerShareCommissionModel:
    per_share: float
    minimum: float = 0.0

    def fee(self, qty: float, price: float, first_fill: bool = True) -> float:
        return max(self.minimum, abs(qty) * self.per_share)


@dataclass(frozen=True, slots=True)
class FixedCommissionModel:
    """A flat amount per order, charged on the order's first fill only."""

    amount: float

    def fee(self, qty: float, price: float, first_fill: bool = True) -> float:
        return self.amount if first_fill else 0.0


@dataclass(frozen=True, slots=True)
class TieredCommissionModel:
    """The whole traded value pays the rate of the highest tier it reaches."""

    tiers: tuple[tuple[float, float], ...]

    def fee(self, qty: float, price: float, first_fill: bool = True) -> float:
        value = abs(qty) * price
        rate = self.tiers[0][1]
        for start, tier_rate in self.tiers:
            if value >= start:
                rate = tier_rate
            else:
                break
        return value * rate


@dataclass(frozen=True, slots=True)
class FixedRelativeCommissionModel:
    """`fixed` cash plus `relative` × traded value on every trade entry and exit."""

    fixed: float
    relative: float

    def fee(self, qty: float, price: float, first_fill: bool = True) -> float:
        return self.fixed + abs(qty) * price * self.relative


@dataclass(frozen=True, slots=True)
class FunctionCommissionModel:
    """A user function `function(size, price) -> fee` (size signed), named by its path."""

    path: str
    function: Callable[[float, float], float]

    def fee(self, qty: float, price: float, first_fill: bool = True) -> float:
        fee = float(self.function(qty, price))
        if not math.isfinite(fee):
            raise ValueError(
                f"commission function {self.path} returned {fee!r} for size {qty!r} at "
                f"price {price!r}; it must return a finite number"
            )
        return fee


@dataclass(frozen=True, slots=True)
class NoSlippage:
    def adjust(self, price: float, sign: int, qty: float, bar_volume: float) -> float:
        return price


@dataclass(frozen=True, slots=True)
class FixedBpsSlippage:
    bps: float

    def adjust(self, price: float, sign: int, qty: float, bar_volume: float) -> float:
        return price * (1.0 + sign * self.bps * 1e-4)


@dataclass(frozen=True, slots=True)
class SpreadSlippage:
    """Pay half the quoted spread (a rate of price) on every fill."""

    spread: float

    def adjust(self, price: float, sign: int, qty: float, bar_volume: float) -> float:
        return price * (1.0 + sign * self.spread / 2.0)


@dataclass(frozen=True, slots=True)
class VolumeImpactSlippage:
    """Quadratic impact in the share of the bar's volume taken (zipline's VolumeShare shape)."""

    coefficient: float

    def adjust(self, price: float, sign: int, qty: float, bar_volume: float) -> float:
        share = abs(qty) / bar_volume if bar_volume > 0 and math.isfinite(bar_volume) else 1.0
        return price * (1.0 + sign * self.coefficient * min(share, 1.0) ** 2)


def commission_from_config(settings: VenueConfig) -> CommissionModel:
    c = settings.commission
    if isinstance(c, (int, float)):
        return PercentCommissionModel(float(c))
    if isinstance(c, PercentCommission):
        return PercentCommissionModel(c.rate)
    if isinstance(c, PerShareCommission):
        return PerShareCommissionModel(c.per_share, c.minimum)
    if isinstance(c, FixedCommission):
        return FixedCommissionModel(c.amount)
    if isinstance(c, FixedRelativeCommission):
        return FixedRelativeCommissionModel(c.fixed, c.relative)
    if isinstance(c, FunctionCommission):
        fn = import_function(c.function, where="venue.commission.function")
        return FunctionCommissionModel(c.function, fn)
    if isinstance(c, TieredCommission):
        return TieredCommissionModel(tuple((float(a), float(b)) for a, b in c.tiers))
    raise TypeError(f"unknown commission model {c!r}")  # pragma: no cover - config forbids it


def slippage_from_config(slippage: SlippageConfig, spread: float) -> SlippageModel:
    if slippage.model == "fixed_bps":
        return FixedBpsSlippage(slippage.bps)
    if slippage.model == "spread":
        return SpreadSlippage(spread)
    if slippage.model == "volume_impact":
        return VolumeImpactSlippage(slippage.coefficient)
    return NoSlippage()
