"""Instruction blocks: orders executed in sequence as one unit at the next bar (EXEC-006).

Every leg passes the pre-trade checks when the block is submitted (one denial
denies the block); at the next bar the legs execute in sequence, and when a leg
fails the legs already filled are unwound with opposite market orders.
A rollback is a HIGH error: the block is retried with fresh legs (new order
ids, the same symbols, sides, sizes and venues) after `retry_delay_seconds ·
2^attempt` of the run's clock, up to `max_retry_attempts` times and within
`tight_loop_timeout`; then the rollback escalates and the run fails.
Mixed into `ExecutionManager`, which provides the tight loop these use.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mypy_extensions import trait

from isoloop.config.models import ExecutionConfig
from isoloop.engine.clock import SimulatedClock
from isoloop.engine.exec_health import ExecutionHealth
from isoloop.engine.risk import RiskManager
from isoloop.engine.venue_manager import VenueInterfaceManager
from isoloop.errors import AtomicGroupError, EngineError
from isoloop.model.events import ExecutionHandshake
from isoloop.model.orders import Order, OrderStatus, Side

__all__ = ["BlockExecution", "InstructionBlock"]

_VALIDATED = OrderStatus.VALIDATED
_FILLED = OrderStatus.FILLED


@dataclass(slots=True)
class InstructionBlock:
    """Orders executed in sequence as one unit at the next bar."""

    id: str
    legs: list[Order]
    status: str = "pending"  # pending | filled | rolled_back | denied
    unwinds: list[Order] = field(default_factory=list)
    error: AtomicGroupError | None = None
    # Legs of earlier attempts that were rolled back (`legs` holds the last attempt's).
    retried_legs: list[Order] = field(default_factory=list)


@trait
class BlockExecution:
    """The instruction-block half of the execution manager."""

    orders: list[Order]
    blocks: list[InstructionBlock]
    _pending_blocks: list[InstructionBlock]
    _block_seq: int
    _risk: RiskManager
    _venues: VenueInterfaceManager
    _log: Any
    settings: ExecutionConfig
    exec_health: ExecutionHealth
    retries: int

    _clock: SimulatedClock
    _elapsed: Callable[[], float]

    # The execution manager's own methods, declared abstract here (not in a TYPE_CHECKING
    # block: mypyc, tools/compile.py, compiles no conditional class bodies).
    @abstractmethod
    def new_order(self, *args: Any, **kwargs: Any) -> Order: ...

    @abstractmethod
    def _escalate(self, err: EngineError, **context: Any) -> EngineError: ...

    @abstractmethod
    def _deny(self, order: Order, reason: str) -> None: ...

    @abstractmethod
    def _apply(self, order: Order, hs: ExecutionHandshake) -> None: ...

    def submit_block(self, legs: list[Order]) -> InstructionBlock:
        """Queue legs to execute in sequence as one unit at the next bar.

        Every leg passes the pre-trade checks now; if one is denied, the whole
        block is denied and nothing is sent.
        """
        self._block_seq += 1
        block = InstructionBlock(f"B{self._block_seq:05d}", list(legs))
        self.blocks.append(block)
        reasons = []
        for leg in legs:
            self.orders.append(leg)
            r = self._risk.pre_trade(leg)
            reasons.append(r)
        if any(r is not None for r in reasons):
            first = next(r for r in reasons if r is not None)
            for leg, r in zip(legs, reasons, strict=True):
                self._deny(leg, r if r is not None else f"block {block.id} denied: {first}")
            block.status = "denied"
            return block
        for leg in legs:
            leg.transition(_VALIDATED)
        self._pending_blocks.append(block)
        self._log.debug("block_queued", block=block.id, legs=[leg.id for leg in legs])
        return block

    def _run_block(self, block: InstructionBlock, bar: int) -> None:
        s = self.settings
        started = self._elapsed()
        attempt = 0
        while not self._try_block(block, bar):
            err = block.error
            assert err is not None
            delay = s.retry_delay_seconds * (2**attempt)
            waited = self._elapsed() - started
            if attempt >= s.max_retry_attempts or waited + delay > s.tight_loop_timeout:
                raise self._escalate(err, block=block.id, attempts=attempt)
            self.exec_health.record(err, self._clock.now(), "retried")
            self._log.warning(
                "block_retry", code=err.code, block=block.id, attempt=attempt + 1, retry_in=delay
            )
            self._clock.sleep(delay)
            attempt += 1
            self.retries += 1
            block.retried_legs.extend(block.legs)
            block.legs = [self._fresh_leg(leg) for leg in block.legs]
        block.status = "filled"

    def _fresh_leg(self, leg: Order) -> Order:
        """The same leg as a new order (the block's pre-trade checks already passed)."""
        again = self.new_order(
            leg.symbol,
            leg.side,
            leg.size,
            venue=leg.venue,
            position_type=leg.position_type,
            tag=leg.tag,
        )
        self.orders.append(again)
        again.transition(_VALIDATED)
        return again

    def _try_block(self, block: InstructionBlock, bar: int) -> bool:
        done: list[Order] = []
        for n, leg in enumerate(block.legs):
            venue = self._venues.find(leg.venue)
            if venue is None:
                hs = self._venues.route_to_venue(leg)
            else:
                leg.transition(OrderStatus.ROUTED)
                hs = venue.execute_now(leg, bar)
            self._apply(leg, hs)
            if leg.status is _FILLED:
                done.append(leg)
                continue
            self._rollback(block, done, leg, n, bar)
            return False
        return True

    def _rollback(
        self, block: InstructionBlock, done: list[Order], failed: Order, n: int, bar: int
    ) -> None:
        for rest in block.legs[n + 1 :]:
            rest.transition(OrderStatus.CANCELLED, f"block {block.id} rolled back")
        for leg in reversed(done):
            unwind = self.new_order(
                leg.symbol,
                Side.SELL if leg.side is Side.BUY else Side.BUY,
                leg.filled,
                venue=leg.venue,
                position_type=leg.position_type,
                tag=f"unwind:{leg.id}",
            )
            unwind.submitted_bar = bar - 1
            self.orders.append(unwind)
            unwind.transition(_VALIDATED)
            unwind.transition(OrderStatus.ROUTED)
            self._apply(unwind, self._venues.get(leg.venue).execute_now(unwind, bar))
            block.unwinds.append(unwind)
        err = AtomicGroupError(
            f"block {block.id}: leg {failed.id} ({failed.symbol}@{failed.venue}) ended "
            f"{failed.status.value} ({failed.reason}); unwound {len(done)} filled leg(s)",
            block=block.id,
        )
        block.status = "rolled_back"
        block.error = err
        self._log.error(
            "atomic_group_rollback",
            code=err.code,
            block=block.id,
            failed_leg=failed.id,
            failed_status=failed.status.value,
            reason=failed.reason,
            unwound=[leg.id for leg in done],
            unwind_orders=[u.id for u in block.unwinds],
            unwind_status=[u.status.value for u in block.unwinds],
        )
