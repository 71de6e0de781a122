"""Faults injected on command: what the next matching request(s) suffer.

Kinds (each armed for an endpoint pattern and a count of requests):

- ``timeout``: hold the request ``seconds`` (longer than the client's timeout), then
  apply it or not (``apply``); with ``apply_first`` the request is applied before the
  hold (the order landed, the answer is late).
- ``5xx``: answer ``status`` (500, 502 or 503) with a gateway-style text body; with
  ``apply`` the request is executed first (Binance: "execution status UNKNOWN").
- ``429``: HTTP 429 with ``Retry-After: retry_after`` and code -1003, not applied.
- ``drop_before_apply`` / ``drop_after_apply``: close the socket without an answer,
  before or after applying the request ("did the order land?").
- ``maintenance``: HTTP 503 ``{"code": -1001, "msg": "System is under maintenance."}``
  (ccxt: OnMaintenance) and ``/sapi/v1/system/status`` reports status 1 meanwhile.
- ``error``: any Binance error answer: ``status``, ``code``, ``msg`` (not applied).

An endpoint pattern is ``"*"``, a path (``/api/v3/order``) or ``"METHOD path"``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAULT_KINDS", "Fault", "FaultPlan"]

FAULT_KINDS = (
    "timeout",
    "5xx",
    "429",
    "drop_before_apply",
    "drop_after_apply",
    "maintenance",
    "error",
)


@dataclass
class Fault:
    kind: str
    endpoint: str = "*"
    count: int | None = 1
    seconds: float = 3.0
    apply: bool = False
    apply_first: bool = False
    status: int = 0
    retry_after: int = 1
    code: int = -1000
    msg: str = "An unknown error occurred while processing the request."
    fired: int = field(default=0)

    def matches(self, method: str, path: str) -> bool:
        if self.endpoint == "*":
            return True
        want_method, _, want_path = self.endpoint.rpartition(" ")
        return want_path == path and (not want_method or want_method.upper() == method)


class FaultPlan:
    """Armed faults, first armed first served; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def arm(self, kind: str, **options: Any) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose one of {', '.join(FAULT_KINDS)}")
        if kind == "5xx":
            options.setdefault("status", 503)
            if options["status"] not in (500, 502, 503, 504):
                raise ValueError("a 5xx fault needs status 500, 502, 503 or 504")
        fault = Fault(kind, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request suffers (spending one of its count), if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.fired += 1
                    if fault.count is not None and fault.fired >= fault.count:
                        self._faults.remove(fault)
                    return fault
            return None

    def in_maintenance(self) -> bool:
        with self._lock:
            return any(f.kind == "maintenance" for f in self._faults)

    def armed(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(vars(f)) for f in self._faults]
