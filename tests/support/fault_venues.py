"""Test-only venues that inject faults into the tight loop, for blueprint venue slots.

`FaultySimVenue` (backtest) and `FaultyPaperVenue` (paper container) raise a
registered engine error (`fault_code`) on submissions number `fail_from` ..
`fail_from + fail_times - 1` (1-based), and can model time on the run's clock:
`latency` seconds before answering a submission, `account_latency` seconds on
each of the first `slow_reads` account reads after the first submission. `FaultySimVenue` also answers its
first `reject_times` submissions REJECTED (a leg of a block that fails), and with
`corrupt` answers wrongly: `order_id` (a submission's answer names another order),
`price` (fills at a negative price) or `overfill` (fills twice the order's units). Nothing here is faster or slower
in wall-clock time in a backtest: the clock is simulated.
"""

from __future__ import annotations

from typing import Any

from isoloop.config.models import VenueConfig
from isoloop.engine.clock import SimulatedClock
from isoloop.engine.venue import HandshakeSink
from isoloop.errors import EngineError
from isoloop.live.slots.paper import PaperVenue
from isoloop.model.events import ExecutionHandshake
from isoloop.model.orders import Order
from isoloop.venues import SimulatedVenue


class _Faults:
    def __init__(
        self,
        clock: SimulatedClock,
        fault_code: str | None,
        fail_from: int,
        fail_times: int,
        latency: float,
        account_latency: float,
        slow_reads: int,
    ) -> None:
        self.clock = clock
        self.code = fault_code
        self.fail_from = fail_from
        self.fail_times = fail_times
        self.latency = latency
        self.account_latency = account_latency
        self.slow_reads = slow_reads
        self.submissions = 0
        self.raised = 0

    def on_submit(self, order: Order) -> None:
        self.submissions += 1
        if self.latency:
            self.clock.sleep(self.latency)
        n = self.submissions
        if self.code is not None and self.fail_from <= n < self.fail_from + self.fail_times:
            self.raised += 1
            raise EngineError(f"injected fault on submission {n} ({order.id})", code=self.code)

    def on_read(self) -> None:
        # Only reads of the tight loop count: none before the first order reaches the venue.
        if self.slow_reads > 0 and self.submissions:
            self.slow_reads -= 1
            self.clock.sleep(self.account_latency)


class FaultySimVenue(SimulatedVenue):
    def __init__(
        self,
        settings: VenueConfig,
        clock: SimulatedClock,
        log: Any,
        fault_code: str | None = None,
        fail_from: int = 1,
        fail_times: int = 0,
        latency: float = 0.0,
        account_latency: float = 0.0,
        slow_reads: int = 0,
        reject_times: int = 0,
        name: str | None = None,
        corrupt: str | None = None,
    ) -> None:
        super().__init__(settings, clock, log, name=name)
        self.faults = _Faults(
            clock, fault_code, fail_from, fail_times, latency, account_latency, slow_reads
        )
        self.reject_times = reject_times
        self.corrupt = corrupt

    def submit(self, order: Order, front: bool = False) -> ExecutionHandshake:
        self.faults.on_submit(order)
        if self.reject_times > 0:
            self.reject_times -= 1
            return self._reject(order, "injected rejection")
        hs = super().submit(order, front)
        if self.corrupt == "order_id":
            return hs._replace(order_id="O9999999")
        return hs

    def process_bar(self, bar: int, sink: HandshakeSink, final: bool = False) -> None:
        if self.corrupt not in ("price", "overfill"):
            return super().process_bar(bar, sink, final)

        def wrong(order: Order, hs: ExecutionHandshake) -> None:
            if hs.fills and self.corrupt == "price":
                hs = hs._replace(fills=tuple(f._replace(price=-f.price) for f in hs.fills))
            elif hs.fills:
                order.filled = 2 * order.size
            sink(order, hs)

        return super().process_bar(bar, wrong, final)

    def reported_cash(self) -> float:
        self.faults.on_read()
        return super().reported_cash()


class FaultyPaperVenue(PaperVenue):
    def __init__(
        self,
        settings: VenueConfig,
        clock: SimulatedClock,
        log: Any,
        run_id: str,
        store: Any,
        router: Any,
        credentials: Any,
        fault_code: str | None = None,
        fail_from: int = 1,
        fail_times: int = 0,
    ) -> None:
        super().__init__(settings, clock, log, run_id, store, router, credentials)
        self.faults = _Faults(clock, fault_code, fail_from, fail_times, 0.0, 0.0, 0)

    def submit(self, order: Order, front: bool = False) -> ExecutionHandshake:
        self.faults.on_submit(order)
        return super().submit(order, front)


def run_on_faulty_venue(run_id: str, **faults: Any) -> tuple[Any, Any]:
    """SmaCross 10/30 on GOOG's first 300 bars, hand-wired with a `FaultySimVenue`
    configured by `faults`, logging to a fresh memory sink: (the wired run, the sink)."""
    from backtesting.test import GOOG

    from isoloop.examples.sma_cross import SmaCross
    from isoloop.logging import MemorySink, make_run_logger
    from support.harness import build, make_config, market

    sink = MemorySink()
    cfg = make_config()
    r = build(
        cfg,
        market(("GOOG", GOOG.iloc[:300])),
        SmaCross,
        {"fast": 10, "slow": 30},
        log=make_run_logger(sink, run_id=run_id, container_id="c1"),
        venue_factory=lambda clock, lg: FaultySimVenue(cfg.venue, clock, lg, **faults),
    )
    return r, sink
