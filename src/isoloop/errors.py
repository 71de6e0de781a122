"""Every exception isoloop raises on purpose, and the registry of engine error codes.

Two bases decide what a user sees: an `InputError` (a config, data file,
blueprint or request the user can fix) is one `error:` line and exit code 2;
a `RunFailed` (the run started and did not complete) is exit code 1. The CLI
maps by class, never by message. Engine errors carry an `ErrorSpec` from
`ERROR_CODES`, so a log line, a failed run record and the CLI say the same
code, severity and fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

__all__ = [
    "ERROR_CODES",
    "AtomicGroupError",
    "BlueprintError",
    "ConfigError",
    "ControlError",
    "CredentialsError",
    "DataError",
    "EngineError",
    "ErrorSpec",
    "ExchangeRequestFailed",
    "ExecutionError",
    "ExecutionTimeout",
    "ExecutorError",
    "IllegalTransition",
    "InputError",
    "InvalidHandshake",
    "IsolationError",
    "IsoloopError",
    "LimitExceeded",
    "LiveError",
    "OrderArgumentError",
    "OrderRejected",
    "OutputConflict",
    "ReconciliationError",
    "RecoverableError",
    "RiskDenied",
    "RoutingError",
    "RunFailed",
    "ScopeError",
    "Severity",
    "StartupReconciliationError",
    "StrategyParamError",
    "UnsafePathError",
    "error_spec",
]


class IsoloopError(Exception):
    """Base class of every error isoloop raises on purpose."""


class InputError(IsoloopError):
    """Input the user can fix (config, data, blueprint, request): exit code 2."""


class RunFailed(IsoloopError):
    """The run started but did not complete: exit code 1."""


class ConfigError(InputError):
    """A run or sweep config is invalid (file, key and fix are in the message)."""


class DataError(InputError):
    """Market data is missing or violates a rule (source, row and rule in the message)."""


class BlueprintError(InputError):
    """A container blueprint names an unknown slot, class or parameter."""


class ScopeError(IsoloopError):
    """A run scope was used in a state that does not allow it."""


class IsolationError(IsoloopError):
    """A run tried to keep state outside its scope (e.g. in a class attribute)."""


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    code: str
    title: str
    severity: Severity
    resolution: str


ERROR_CODES: MappingProxyType[str, ErrorSpec] = MappingProxyType(
    {
        spec.code: spec
        for spec in (
            ErrorSpec(
                "EXEC-001",
                "order execution failed",
                Severity.HIGH,
                "The venue failed to take the order (connection, transient venue error); it is "
                "retried with backoff up to execution.max_retry_attempts, then the run fails. "
                "Check the venue's connectivity and the order's parameters.",
            ),
            ErrorSpec(
                "EXEC-002",
                "order denied by risk",
                Severity.LOW,
                "The pre-trade checks in the `risk` config section refused the order; relax the "
                "limit or change the strategy's sizing.",
            ),
            ErrorSpec(
                "EXEC-003",
                "illegal order state transition",
                Severity.CRITICAL,
                "A component tried to move an order to a state its current state does not allow; "
                "this is a bug in the component named in the message.",
            ),
            ErrorSpec(
                "EXEC-004",
                "order rejected or not routable",
                Severity.MEDIUM,
                "The venue refused the order (unknown venue, insufficient margin, bad price); "
                "check the venue name and the order's size and prices.",
            ),
            ErrorSpec(
                "EXEC-005",
                "reconciliation timeout",
                Severity.CRITICAL,
                "The position books and the venue's account still disagree after every retry; "
                "inspect the run log's reconciliation events, fix the venue state, then rerun.",
            ),
            ErrorSpec(
                "EXEC-006",
                "atomic group rollback",
                Severity.HIGH,
                "A later leg of an instruction block failed and the filled legs were unwound; the "
                "block is retried with backoff up to execution.max_retry_attempts, then the run "
                "fails. Check the failing leg's venue and limits.",
            ),
            ErrorSpec(
                "EXEC-007",
                "execution timeout",
                Severity.HIGH,
                "The venue did not acknowledge the order within execution.execution_timeout "
                "(seconds of the run's clock, retries of the submission included); the run "
                "fails. Raise the timeout or check the venue's latency.",
            ),
            ErrorSpec(
                "EXEC-008",
                "invalid handshake",
                Severity.CRITICAL,
                "The venue's answer does not match the order (order id, venue, symbol, side, "
                "a fill over the order's quantity, a price that is not a positive number); the "
                "books cannot trust it, so the run fails. Fix the venue adapter.",
            ),
            ErrorSpec(
                "RISK-001",
                "kill switch engaged",
                Severity.MEDIUM,
                "Trading is HALTED or REDUCING; see the risk audit log for who tripped it and why.",
            ),
        )
    }
)


def error_spec(code: str) -> ErrorSpec:
    return ERROR_CODES[code]


class EngineError(IsoloopError):
    """An engine failure with a registered error code."""

    code: str = "EXEC-001"

    def __init__(self, message: str, *, code: str | None = None, **context: Any) -> None:
        if code is not None:
            self.code = code
        self.context = context
        spec = ERROR_CODES[self.code]
        super().__init__(f"{self.code} {spec.title}: {message}")

    @property
    def spec(self) -> ErrorSpec:
        return ERROR_CODES[self.code]

    @property
    def severity(self) -> Severity:
        return self.spec.severity


class ExecutionError(EngineError):
    code = "EXEC-001"


class RiskDenied(EngineError):
    code = "EXEC-002"


class IllegalTransition(EngineError):
    code = "EXEC-003"


class OrderRejected(EngineError):
    code = "EXEC-004"


class RoutingError(OrderRejected):
    """An order names a venue the venue interface manager does not know."""


class ReconciliationError(EngineError):
    code = "EXEC-005"


class AtomicGroupError(EngineError):
    code = "EXEC-006"


class ExecutionTimeout(EngineError):
    code = "EXEC-007"


class InvalidHandshake(EngineError):
    """A venue answer that does not match its order (EXEC-008)."""

    code = "EXEC-008"


class OrderArgumentError(IsoloopError, ValueError):
    """A strategy placed an order with arguments that cannot mean one thing (a size that
    is neither a fraction nor whole units, SL/TP on the wrong side of the price…).

    A bug in the strategy's code, raised where it calls `buy`/`sell`: the run fails
    (exit 1) with the message naming the argument and the spelling that fixes it."""


class StrategyParamError(ConfigError):
    """A strategy parameter is invalid: the message names the parameter and the fix."""


class LiveError(IsoloopError):
    """A live or paper container could not start or keep running."""


class CredentialsError(ConfigError):
    """A venue credential is missing or still a placeholder (never carries the value)."""


class StartupReconciliationError(LiveError):
    """The venue's account and the container's own persisted state disagree at startup."""


class RecoverableError(LiveError):
    """A transient failure (connection, timeout): the tick is retried with backoff."""


class ControlError(LiveError):
    """The control API refused a request or could not be reached."""


class ExchangeRequestFailed(LiveError):
    """A request to a real exchange failed (ccxt venue adapter); `fault` says how (its
    severity decides retry, reject or fail). Caught inside the adapter; the message is
    scrubbed of keys and signed URLs, so it is safe to log."""

    def __init__(self, fault: Any, message: str) -> None:
        super().__init__(message)
        self.fault = fault


class ExecutorError(IsoloopError):
    """An executor cannot run trials at all (workers fail to start, cluster unreachable)."""


class UnsafePathError(ConfigError):
    """A run or sweep name, or an output path, that would leave its output folder."""


class LimitExceeded(InputError):
    """An input is over a configured cap (the message names the limit and how to raise it)."""


class OutputConflict(InputError):
    """An output folder holds another run's outputs (e.g. a sweep run with another store)."""
