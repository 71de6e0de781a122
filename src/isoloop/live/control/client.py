"""A small client for the control API (what `isoloop live status|pause|...` uses)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from isoloop.errors import ControlError

__all__ = ["ControlClient"]


class ControlClient:
    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self._token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("error", "")
            except (ValueError, AttributeError):
                detail = ""
            if exc.code == 401:
                raise ControlError(
                    f"{self.url}: the control API refused the token (401); check --token-file "
                    "or ISOLOOP_LIVE_TOKEN"
                ) from None
            raise ControlError(f"{self.url}{path}: HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ControlError(
                f"cannot reach the control API at {self.url} ({reason}); is `isoloop live` running?"
            ) from None

    def health(self) -> Any:
        return self.request("GET", "/health")

    def strategies(self) -> Any:
        return self.request("GET", "/strategies")

    def action(self, name: str, action: str) -> Any:
        return self.request("POST", f"/strategies/{name}/{action}", {})

    def kill(self, state: str, strategy: str | None = None, reason: str | None = None) -> Any:
        return self.request(
            "POST", "/kill", {"state": state, "strategy": strategy, "reason": reason}
        )
