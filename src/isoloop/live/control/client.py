"""A small client for the control API (what `isoloop live status|pause|...` uses).

Every way a request can go wrong becomes one `ControlError` (nothing reached:
exit 1) or `ConfigError` (a URL that cannot be one: exit 2), with a message
that says what is not running and how to start it, never a traceback.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from isoloop.errors import ConfigError, ControlError

__all__ = ["START_HINT", "ControlClient", "check_url"]

# What an operator does when no manager answers: said once, used by every message.
START_HINT = (
    "start one with `isoloop live CONFIG` (api.enabled: true in its config), or pass --url "
    "with the URL its STATE_DIR/api.json names"
)


def check_url(url: str, where: str = "url") -> str:
    """The control API's base URL without a trailing slash; `where` names the setting."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError as exc:
        raise ConfigError(
            f"{where}: {url!r} is not a valid URL ({exc}); e.g. http://127.0.0.1:8765"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{where}: {url!r} is not an http:// URL with a host; e.g. http://127.0.0.1:8765"
        )
    del port
    return url.rstrip("/")


class ControlClient:
    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.url = check_url(url)
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
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("error", "")
            except (ValueError, AttributeError, OSError, http.client.HTTPException):
                detail = ""
            if exc.code == 401:
                raise ControlError(
                    f"{self.url}: the control API refused the token (401); check --token-file "
                    "or ISOLOOP_LIVE_TOKEN"
                ) from None
            raise ControlError(f"{self.url}{path}: HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError):
                raise ControlError(
                    f"the control API at {self.url} did not answer within {self.timeout:g} s; "
                    "is that an `isoloop live` manager, and is it responsive?"
                ) from None
            raise ControlError(
                f"no isoloop live manager is running at {self.url} ({reason}): {START_HINT}"
            ) from None
        except http.client.HTTPException as exc:
            # Something listens there but does not speak HTTP (another service on the port).
            raise ControlError(
                f"{self.url} answered, but not as an isoloop live control API "
                f"({type(exc).__name__}); check --url"
            ) from None
        try:
            return json.loads(raw)
        except ValueError:
            raise ControlError(
                f"{self.url}{path} answered, but not as an isoloop live control API (no JSON); "
                "check --url"
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
