"""The control API: HTTP on 127.0.0.1 only, a bearer token on every endpoint.

    GET  /health                         {"status": "ok", "environment", "kill_switch", ...}
    GET  /strategies                     {NAME: state, ...}
    GET  /strategies/NAME                state of one
    POST /strategies/NAME/pause|resume|stop
    POST /kill   {"state": "HALTED"|"REDUCING"|"ACTIVE", "strategy": NAME|null, "reason": "..."}

The token is compared with `hmac.compare_digest`; it is never logged, and the
request log records method, path and status only.
"""

from __future__ import annotations

import hmac
import json
import os
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from isoloop.errors import ConfigError, IsoloopError
from isoloop.live.config import ApiConfig
from isoloop.live.slots.credentials import is_placeholder

__all__ = ["LOOPBACK", "ControlServer", "Controlled", "ControlledContainer", "load_token"]

LOOPBACK = "127.0.0.1"
MIN_TOKEN_LENGTH = 16


class ControlledContainer(Protocol):
    """What the API reads from one strategy's container."""

    @property
    def state(self) -> str: ...

    @property
    def kill_state(self) -> str: ...

    def get_state(self) -> dict[str, Any]: ...


class Controlled(Protocol):
    """What the API needs from the live manager; declared here so that this module
    never imports the manager (which imports this one to serve itself)."""

    @property
    def log(self) -> Any: ...

    @property
    def kill_state(self) -> str: ...

    def get_state(self) -> dict[str, Any]: ...

    def container(self, name: str) -> ControlledContainer: ...

    def pause(self, name: str) -> None: ...

    def resume(self, name: str) -> None: ...

    def stop_strategy(self, name: str) -> None: ...

    def trip(
        self, state: str, reason: str, *, strategy: str | None = None, by: str = "operator"
    ) -> None: ...


def load_token(api: ApiConfig, env: dict[str, str] | None = None) -> str:
    """The API token from `api.token_file` or the `api.token_env` variable."""
    source = os.environ if env is None else env
    token: str | None = None
    where = ""
    if api.token_file:
        path = Path(api.token_file)
        if not path.is_file():
            raise ConfigError(f"api.token_file: {path} does not exist; create it with a token")
        token, where = path.read_text(encoding="utf-8").strip(), f"api.token_file {path}"
    elif api.token_env:
        token, where = source.get(api.token_env), f"environment variable {api.token_env}"
    if token is None:
        raise ConfigError(
            f"the control API needs a token: set {where or 'api.token_env or api.token_file'}"
            " (or api.enabled: false)"
        )
    if is_placeholder(token) or len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"{where}: the API token is a placeholder or shorter than {MIN_TOKEN_LENGTH} "
            "characters; use a long random token"
        )
    return token


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # requests are logged structurally in _reply, never with headers

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        expected = self.server.token.encode()
        ok = hmac.compare_digest(given.strip().encode(), expected)
        return scheme.lower() == "bearer" and ok

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, sort_keys=True, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Bearer realm="isoloop"')
        self.end_headers()
        self.wfile.write(data)
        self.server.log.info(
            "api_request", method=self.command, path=self.path.split("?")[0], status=status
        )

    def _body(self) -> dict[str, Any]:
        n = int(self.headers.get("Content-Length") or 0)
        if not n:
            return {}
        raw = json.loads(self.rfile.read(n))
        if not isinstance(raw, dict):
            raise ValueError("the request body must be a JSON object")
        return raw

    def _handle(self, method: str) -> None:
        if not self._authorized():
            # Drain any body so the connection stays usable, then refuse.
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            self._reply(HTTPStatus.UNAUTHORIZED, {"error": "missing or wrong bearer token"})
            return
        m = self.server.manager
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        try:
            if method == "GET" and parts == ["health"]:
                st = m.get_state()
                self._reply(
                    200,
                    {
                        "status": "ok",
                        "environment": st["environment"],
                        "kill_switch": st["kill_switch"],
                        "strategies": len(st["strategies"]),
                        "feed": st["feed"],
                    },
                )
            elif method == "GET" and parts == ["strategies"]:
                self._reply(200, m.get_state()["strategies"])
            elif method == "GET" and len(parts) == 2 and parts[0] == "strategies":
                self._reply(200, m.container(parts[1]).get_state())
            elif method == "POST" and len(parts) == 3 and parts[0] == "strategies":
                name, action = parts[1], parts[2]
                if action == "pause":
                    m.pause(name)
                elif action == "resume":
                    m.resume(name)
                elif action == "stop":
                    m.stop_strategy(name)
                else:
                    self._reply(404, {"error": f"unknown action {action!r}"})
                    return
                self._reply(200, {"strategy": name, "state": m.container(name).state})
            elif method == "POST" and parts == ["kill"]:
                body = self._body()
                m.trip(
                    str(body.get("state", "HALTED")),
                    str(body.get("reason") or "operator via control API"),
                    strategy=body.get("strategy"),
                    by="api",
                )
                strategy = body.get("strategy")
                state = m.kill_state if strategy is None else m.container(strategy).kill_state
                self._reply(
                    200, {"scope": strategy or "global", "strategy": strategy, "state": state}
                )
            else:
                self._reply(404, {"error": f"no endpoint {method} {self.path}"})
        except (IsoloopError, ValueError) as exc:
            self._reply(400, {"error": str(exc)})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, manager: Controlled, token: str, port: int) -> None:
        self.manager = manager
        self.token = token
        self.log = manager.log
        super().__init__((LOOPBACK, port), _Handler)


class ControlServer:
    def __init__(self, manager: Controlled, token: str, port: int = 0) -> None:
        self._server = _Server(manager, token, port)
        address = self._server.server_address
        self.host, self.port = str(address[0]), int(address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="isoloop-api", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)
