"""Classes for the slot-role tests: some can play a role, some cannot.

`Recorder` notes in the run's journal (`config['journal']`) when it is built, so a
test can show a refused blueprint built nothing.
"""

from __future__ import annotations

from typing import Any


class Recorder:
    def __init__(self, config: Any = None) -> None:
        if isinstance(config, dict):
            config["journal"].append(f"built:{type(self).__name__}")

    def health(self) -> str:
        return "healthy"


class Ticker(Recorder):
    """Plays a `clock` role that needs now()."""

    def now(self) -> float:
        return 0.0


class Publisher(Recorder):
    """Plays a `bus` role that needs publish()."""

    def publish(self, event: Any) -> None:
        del event


class Silent:
    """No start(), stop() or health(): no component, whatever its slot."""

    def __init__(self, config: Any = None) -> None:
        if isinstance(config, dict):
            config["journal"].append("built:Silent")


class FullVenue(Recorder):
    """Every method of isoloop.engine.venue.Venue (never called here)."""

    def submit(self, order: Any, front: bool = False) -> Any: ...
    def process_bar(self, bar: int, sink: Any, final: bool = False) -> None: ...
    def execute_now(self, order: Any, bar: int) -> Any: ...
    def liquidate(self, order: Any, bar: int) -> Any: ...
    def write_off(self) -> Any: ...
    def cancel(self, order: Any, reason: str) -> Any: ...
    def account(self) -> Any: ...
    def reported_cash(self) -> float: ...
    def reported_positions(self) -> dict[str, float]: ...
    def initial_cash(self) -> float: ...


class HalfVenue(Recorder):
    """Only submit(): not a Venue."""

    def submit(self, order: Any, front: bool = False) -> Any: ...
