"""Position keys: `venue:position_type:symbol`, the one way books name a position."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["PositionKey", "position_key"]


class PositionKey(NamedTuple):
    venue: str
    position_type: str
    symbol: str

    @classmethod
    def parse(cls, key: str) -> PositionKey:
        parts = key.split(":", 2)
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"position key {key!r} must look like 'venue:position_type:symbol'")
        return cls(parts[0], parts[1], parts[2])

    def __str__(self) -> str:
        return f"{self.venue}:{self.position_type}:{self.symbol}"


def position_key(venue: str, position_type: str, symbol: str) -> str:
    return f"{venue}:{position_type}:{symbol}"
