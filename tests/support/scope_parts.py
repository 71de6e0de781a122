"""Stand-in components with the standard backtest slots, for scope tests.

Each records start/stop into a journal shared by one run's components (passed
in through the blueprint's args as a list-typed config value), so tests can
check the order without any module-level state.
"""

from __future__ import annotations

import time
from typing import Any

from isoloop.scope import Health


class Part:
    inline_stop = True

    def __init__(self, config: Any = None) -> None:
        self.journal: list[str] = config["journal"] if isinstance(config, dict) else []
        self.name = type(self).__name__

    def start(self) -> None:
        self.journal.append(f"start:{self.name}")

    def stop(self) -> None:
        self.journal.append(f"stop:{self.name}")

    def health(self) -> Health:
        return Health("healthy", {"name": self.name})


class Clock(Part):
    pass


class Bus(Part):
    def __init__(self, clock: Clock, config: Any = None) -> None:
        super().__init__(config)
        self.clock = clock


class Venue(Part):
    def __init__(self, clock: Clock, bus: Bus, market_data: Any, config: Any = None) -> None:
        super().__init__(config)
        self.clock, self.bus, self.market_data = clock, bus, market_data


class Positions(Part):
    def __init__(self, bus: Bus, config: Any = None) -> None:
        super().__init__(config)
        self.bus = bus


class PositionUpdates(Part):
    def __init__(self, positions: Positions, venue: Venue, config: Any = None) -> None:
        super().__init__(config)
        self.positions, self.venue = positions, venue


class VenueManager(Part):
    def __init__(self, venue: Venue, config: Any = None) -> None:
        super().__init__(config)
        self.venue = venue


class Risk(Part):
    def __init__(self, positions: Positions, config: Any = None) -> None:
        super().__init__(config)
        self.positions = positions


class Execution(Part):
    def __init__(
        self,
        venues: VenueManager,
        position_updates: PositionUpdates,
        risk: Risk,
        clock: Clock,
        log: Any,
        config: Any = None,
    ) -> None:
        super().__init__(config)
        self.venues, self.position_updates, self.risk, self.log = (
            venues,
            position_updates,
            risk,
            log,
        )


class Strategy(Part):
    def __init__(self, execution: Execution, market_data: Any, config: Any = None) -> None:
        super().__init__(config)
        self.execution, self.market_data = execution, market_data


class Engine(Part):
    def __init__(
        self,
        strategy: Strategy,
        execution: Execution,
        clock: Clock,
        run_id: str,
        config: Any = None,
    ) -> None:
        super().__init__(config)
        self.strategy, self.execution, self.clock, self.run_id = strategy, execution, clock, run_id


class FailingStop(Part):
    def __init__(self, clock: Clock, config: Any = None) -> None:
        super().__init__(config)

    def stop(self) -> None:
        super().stop()
        raise RuntimeError("stop failed on purpose")


class HangingStop(Part):
    inline_stop = False  # must go through the guarded teardown thread

    def __init__(self, clock: Clock, config: Any = None) -> None:
        super().__init__(config)

    def stop(self) -> None:
        super().stop()
        time.sleep(3600)


class NeedsUnknown:
    def __init__(self, mystery: int) -> None:
        self.mystery = mystery


class FailingStart(Part):
    def __init__(self, bus: Bus, config: Any = None) -> None:
        super().__init__(config)

    def start(self) -> None:
        raise RuntimeError("start failed on purpose")


def _release_of(config: Any) -> Any:
    """The test's release event (a `threading.Event` in the config); waits are bounded."""
    return config["release"]


class StopOnly:
    """Has a stop() but no start(): still stopped at teardown."""

    inline_stop = True

    def __init__(self, clock: Clock, config: Any = None) -> None:
        self.journal: list[str] = config["journal"]

    def stop(self) -> None:
        self.journal.append("stop:StopOnly")


class HangingStart(Part):
    inline_stop = False

    def __init__(self, bus: Bus, config: Any = None) -> None:
        super().__init__(config)
        self.release = _release_of(config)

    def start(self) -> None:
        super().start()
        self.release.wait(60)


class AfterHang(Part):
    """Needs the hanging slot: never reached when its start hangs."""

    def __init__(self, hang: HangingStart, config: Any = None) -> None:
        super().__init__(config)


class HangingBuild(Part):
    def __init__(self, clock: Clock, config: Any = None) -> None:
        super().__init__(config)
        _release_of(config).wait(60)
