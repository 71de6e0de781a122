"""Venues (simulated broker, passthrough) and their cost models."""

from isoloop.engine.venue import HandshakeSink, Venue
from isoloop.venues.costs import (
    CommissionModel,
    FixedBpsSlippage,
    FixedCommissionModel,
    NoSlippage,
    PercentCommissionModel,
    PerShareCommissionModel,
    SlippageModel,
    SpreadSlippage,
    TieredCommissionModel,
    VolumeImpactSlippage,
    commission_from_config,
    slippage_from_config,
)
from isoloop.venues.passthrough import PassthroughVenue
from isoloop.venues.simulated import SimulatedVenue

__all__ = [
    "CommissionModel",
    "FixedBpsSlippage",
    "FixedCommissionModel",
    "HandshakeSink",
    "NoSlippage",
    "PassthroughVenue",
    "PerShareCommissionModel",
    "PercentCommissionModel",
    "SimulatedVenue",
    "SlippageModel",
    "SpreadSlippage",
    "TieredCommissionModel",
    "Venue",
    "VolumeImpactSlippage",
    "commission_from_config",
    "slippage_from_config",
]
