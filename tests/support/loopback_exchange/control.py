"""Drive a loopback exchange over HTTP (`/__control/*`) from another process."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

__all__ = ["LoopbackControl"]


class LoopbackControl:
    """The control half of `LoopbackExchange`, for a manager or test in another process."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, name: str, payload: dict[str, Any] | None = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(
            f"{self.url}/__control/{name}",
            data=data,
            method="GET" if data is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.loads(resp.read())

    def set_bar(self, i: int) -> list[dict[str, Any]]:
        return list(self._call("set_bar", {"i": i})["fills"])

    def inject(self, fault: str, count: int | None = 1, **options: Any) -> None:
        self._call("inject", {"fault": fault, "count": count, **options})

    def clear_faults(self) -> None:
        self._call("clear_faults", {})

    def reset_requests(self) -> None:
        self._call("reset_requests", {})

    def state(self) -> dict[str, Any]:
        return dict(self._call("state"))

    @property
    def requests(self) -> dict[str, int]:
        return dict(self.state()["requests"])

    def orders(self) -> list[dict[str, Any]]:
        return list(self.state()["orders"])

    def fills(self) -> list[dict[str, Any]]:
        return list(self.state()["fills"])

    def balances(self) -> dict[str, Any]:
        return dict(self.state()["balances"])

    def positions(self) -> dict[str, dict[str, float]]:
        return dict(self.state()["positions"])
