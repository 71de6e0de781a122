"""The tight loop's policy half: submission retries, timeouts and reconciliation.

Mixed into `ExecutionManager` (see its module docstring for what each setting
bounds). Every wait is on the run's clock: simulated seconds in a backtest, so
backoff costs no wall-clock time and stays deterministic; real seconds live.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from mypy_extensions import trait

from isoloop.config.models import ExecutionConfig
from isoloop.engine.clock import SimulatedClock
from isoloop.engine.exec_health import Action, ExecutionHealth
from isoloop.engine.positions import PositionUpdateHandler
from isoloop.engine.venue_manager import VenueInterfaceManager
from isoloop.errors import EngineError, ExecutionTimeout, ReconciliationError, Severity
from isoloop.model.events import ExecutionHandshake
from isoloop.model.orders import Order, OrderStatus

__all__ = ["TightLoop", "debug_of", "elapsed_reader", "simulated_clock"]

_VALIDATED = OrderStatus.VALIDATED


def simulated_clock(clock: Any) -> SimulatedClock | None:
    """`clock` if it is simulated (time moves inside one bar only by waiting), else None."""
    if isinstance(clock, SimulatedClock) and getattr(clock, "simulated", True):
        return clock
    return None


def elapsed_reader(clock: Any) -> Callable[[], float]:
    """What the tight loop reads to measure durations on the run's clock.

    On a simulated clock the `slept` counter measures the same durations as `now()`
    at a fraction of the cost (this is read several times per order); a wall clock,
    or any other clock, with `now()`."""
    sim = simulated_clock(clock)
    if sim is not None:
        return lambda: sim.slept
    now: Callable[[], float] = clock.now
    return now


def debug_of(log: Any) -> Callable[..., Any] | None:
    """`log.debug`, or None when `log` says it drops debug records (a structlog
    filtering logger above DEBUG), so hot paths skip gathering the fields."""
    enabled = getattr(log, "is_enabled_for", None)
    if callable(enabled) and enabled(logging.DEBUG) is False:
        return None
    debug: Callable[..., Any] = log.debug
    return debug


def _reject(order: Order, err: EngineError) -> None:
    # A failed order never stays in flight (a venue that raised mid-way may have moved it on).
    if order.status is OrderStatus.ROUTED:
        order.transition(OrderStatus.REJECTED, str(err))


@trait
class TightLoop:
    """Submission with severity policy, and reconciliation with retries."""

    settings: ExecutionConfig
    exec_health: ExecutionHealth
    failed: EngineError | None
    retries: int
    _venues: VenueInterfaceManager
    _updates: PositionUpdateHandler
    _clock: SimulatedClock
    _log: Any
    _elapsed: Callable[[], float]

    def _send(self, order: Order, front: bool, started: float) -> ExecutionHandshake:
        """Route `order`; a venue that raises is handled by the error's severity."""
        venue = self._venues.find(order.venue)
        attempt = 0
        while True:
            try:
                if venue is None or (attempt == 0 and not front):
                    return self._venues.route_to_venue(order)
                if order.status is _VALIDATED:
                    order.transition(OrderStatus.ROUTED)
                return venue.submit(order, front=front)
            except EngineError as err:
                if err.severity is not Severity.HIGH or attempt >= self.settings.max_retry_attempts:
                    return self._unrouted(order, err, attempt)
                delay = self.settings.retry_delay_seconds * (2**attempt)
                waited = self._elapsed() - started
                if waited + delay > self.settings.execution_timeout:
                    _reject(order, err)
                    raise self._escalate(
                        ExecutionTimeout(
                            f"order {order.id} to venue {order.venue!r} not acknowledged within "
                            f"{self.settings.execution_timeout:g}s after {attempt + 1} attempt(s) "
                            f"(last error: {err})",
                            order_id=order.id,
                        )
                    ) from err
                self.exec_health.record(err, self._clock.now(), "retried")
                self._log.warning(
                    "order_retry",
                    code=err.code,
                    order_id=order.id,
                    attempt=attempt + 1,
                    retry_in=delay,
                    error=str(err),
                )
                self._clock.sleep(delay)
                attempt += 1
                self.retries += 1

    def _unrouted(self, order: Order, err: EngineError, attempts: int) -> ExecutionHandshake:
        """The venue never took `order`: it ends REJECTED; CRITICAL and an exhausted HIGH
        fail the run, MEDIUM degrades it, LOW is only logged."""
        _reject(order, err)
        sev = err.severity
        if sev is Severity.CRITICAL or sev is Severity.HIGH:
            raise self._escalate(err, attempts=attempts)
        action: Action = "degraded" if sev is Severity.MEDIUM else "logged"
        self.exec_health.record(err, self._clock.now(), action)
        emit = self._log.warning if sev is Severity.MEDIUM else self._log.info
        emit("order_error", code=err.code, severity=sev.value, order_id=order.id, error=str(err))
        return ExecutionHandshake(order.id, order.venue, order.status, reason=str(err))

    def _escalate(self, err: EngineError, **context: Any) -> EngineError:
        """Record `err` as the failure of the run and hand it back to be raised."""
        self.failed = err
        self.exec_health.record(err, self._clock.now(), "failed")
        self._log.error(
            "execution_failed",
            code=err.code,
            severity=err.severity.value,
            error=str(err),
            **context,
        )
        return err

    def _reconcile_once(self, venue: str, done: tuple[list[str], float] | None = None) -> list[str]:
        """One reconciliation attempt; one that outlasts `reconciliation_timeout` on the
        run's clock (a slow venue account) counts as a mismatch of its own. `done` is an
        attempt already made: (its problems, how long it took)."""
        if done is None:
            t0 = self._elapsed()
            problems = self._updates.reconcile(venue)
            took = self._elapsed() - t0
        else:
            problems, took = done
        if took > self.settings.reconciliation_timeout:
            problems = [
                *problems,
                f"attempt took {took:g}s, over execution.reconciliation_timeout "
                f"{self.settings.reconciliation_timeout:g}s",
            ]
        return problems

    def _reconcile_with_retries(
        self,
        venue: str,
        order: Order,
        started: float,
        first: tuple[list[str], float] | None = None,
    ) -> None:
        """Reconcile until books and venue agree, within the retry and time budgets;
        `first` is the first attempt when the caller made it already."""
        s = self.settings
        attempt = 0
        problems = self._reconcile_once(venue, first)
        while problems:
            delay = s.retry_delay_seconds * (2**attempt)
            # The whole loop of this order, from routing on, is bounded by the tight loop's budget.
            waited = self._elapsed() - started
            if attempt >= s.max_retry_attempts or waited + delay > s.tight_loop_timeout:
                why = (
                    "tight-loop timeout" if attempt < s.max_retry_attempts else f"{attempt} retries"
                )
                err = ReconciliationError(
                    f"books and venue {venue!r} still disagree after {why} "
                    f"({waited:g}s waited) for order {order.id}: {'; '.join(problems)}",
                    venue=venue,
                    order_id=order.id,
                )
                self.failed = err
                self.exec_health.record(err, self._clock.now(), "failed")
                self._log.error(
                    "reconciliation_failed",
                    code=err.code,
                    venue=venue,
                    order_id=order.id,
                    attempts=attempt,
                    waited=waited,
                    problems=problems,
                )
                raise err
            self._log.warning(
                "reconciliation_mismatch",
                venue=venue,
                order_id=order.id,
                attempt=attempt + 1,
                retry_in=delay,
                problems=problems,
            )
            self.exec_health.degrade()
            self._clock.sleep(delay)
            attempt += 1
            self.retries += 1
            problems = self._reconcile_once(venue)
        if attempt:
            self._log.info(
                "reconciliation_recovered", venue=venue, order_id=order.id, attempts=attempt
            )
