"""The control API: HTTP on 127.0.0.1 only, a bearer token on every endpoint.

    GET  /health                         {"status": "ok", "environment", "kill_switch", ...}
    GET  /state                          the manager's whole get_state()
    GET  /strategies                     {NAME: state, ...}
    GET  /strategies/NAME                state of one
    POST /strategies/NAME/pause|resume|stop|start
    POST /pause, /resume                 every strategy at once
    POST /kill   {"state": "HALTED"|"REDUCING"|"ACTIVE", "strategy": NAME|null, "reason": "..."}
    GET  /ui                             the operator page (fixed bytes: see control/page.py)

The token is compared with `hmac.compare_digest`; it is never logged, and the
request log records method, path and status only. The token is checked from the
headers before any body is read; bodies are capped (`limits.MAX_BODY_BYTES`, 413)
and so is JSON nesting (`limits.MAX_JSON_DEPTH`, 400); a malformed request, a
wrong method (405) or an unknown path (404) gets a JSON `{"error": ...}` and a
closed connection, and nothing reaches stderr.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from isoloop.errors import ConfigError, IsoloopError, LiveError
from isoloop.live.config import ApiConfig
from isoloop.live.control.limits import (
    Refusal,
    declared_length,
    kill_request,
    parse_json_object,
)
from isoloop.live.control.page import PAGE_HEADERS, PAGE_HTML, PAGE_PATH
from isoloop.live.slots.credentials import is_placeholder

__all__ = ["LOOPBACK", "ControlServer", "Controlled", "ControlledContainer", "load_token"]

LOOPBACK = "127.0.0.1"
MIN_TOKEN_LENGTH = 16
REQUEST_TIMEOUT = 10.0  # seconds a client may take to send its headers or body
DRAIN_BYTES = 256 * 1024  # after refusing a body: discarded at most, then the socket closes
DRAIN_SECONDS = 0.5
_ACTIONS = frozenset({"pause", "resume", "stop", "start"})
_GLOBAL_ACTIONS = (["pause"], ["resume"])


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

    def strategy_state(self, name: str) -> dict[str, Any]: ...

    def container(self, name: str) -> ControlledContainer: ...

    def pause(self, name: str) -> None: ...

    def resume(self, name: str) -> None: ...

    def pause_all(self) -> list[str]: ...

    def resume_all(self) -> list[str]: ...

    def stop_strategy(self, name: str) -> None: ...

    def start_strategy(self, name: str) -> None: ...

    def step_feed(self) -> int | None: ...

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
    """Authenticates from the headers alone, before a byte of the body is read; any
    malformed request gets a 4xx JSON answer and a closed connection, never a traceback."""

    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = REQUEST_TIMEOUT  # a stalled sender (headers or body) is dropped
    _unread = False  # the client may still be sending a body we refused to read

    def log_message(self, format: str, *args: Any) -> None:
        return  # requests are logged structurally in _reply, never with headers

    def handle_one_request(self) -> None:
        """The standard loop, but every method reaches `_handle` (which authenticates)."""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return  # parse_request answered (through send_error)
            self._handle(self.command)
            self.wfile.flush()
        except OSError:  # a timeout, a reset or a broken pipe: drop this connection
            self.close_connection = True
            self._unread = True

    def handle_expect_100(self) -> bool:
        # "100 Continue" only invites a body we would read; otherwise the final answer
        # (401, 411, 413, ...) comes first.
        if self._authorized() and isinstance(declared_length(self.headers), int):
            self.send_response_only(HTTPStatus.CONTINUE)
            self.end_headers()
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's parse errors, as JSON and always a 4xx (its 505 for an
        unknown HTTP version is the client's fault too)."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self._unread = True
        status = code if 400 <= code < 500 else HTTPStatus.BAD_REQUEST
        self._reply(status, {"error": (message or phrase)[:200]})

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        if self._unread:
            self._drain()

    def _drain(self) -> None:
        """Half-close, then discard what the client is still sending, bounded in bytes and
        time, so the answer is not lost to a reset; nothing is kept."""
        sock = self.connection
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(DRAIN_SECONDS)
            deadline = time.monotonic() + DRAIN_SECONDS
            left = DRAIN_BYTES
            while left > 0 and time.monotonic() < deadline:
                chunk = sock.recv(min(65536, left))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        expected = self.server.token.encode()
        ok = hmac.compare_digest(given.strip().encode(), expected)
        return scheme.lower() == "bearer" and ok

    def _reply(self, status: int, body: dict[str, Any], allow: str | None = None) -> None:
        data = json.dumps(body, sort_keys=True, default=str).encode()
        if self.request_version == "HTTP/0.9":
            # A garbled or HTTP/0.9 request line: answer with a status line and headers
            # anyway (HTTP/0.9 has neither), so the client sees the 4xx.
            self.request_version = "HTTP/1.0"
        if status >= HTTPStatus.BAD_REQUEST:
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Bearer realm="isoloop"')
        if allow is not None:
            self.send_header("Allow", allow)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        path = str(getattr(self, "path", "") or "").split("?")[0][:200]
        self.server.log.info(
            "api_request", method=str(self.command or "")[:16], path=path, status=status
        )

    def _serve_page(self) -> None:
        """The operator page: fixed bytes, no data (its script fetches /state with the
        token), so it is answered before authentication; a body is never read."""
        self._unread = declared_length(self.headers) != 0
        if self._unread:
            self.close_connection = True
        self.send_response(HTTPStatus.OK)
        for key, value in PAGE_HEADERS.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(PAGE_HTML)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(PAGE_HTML)
        self.server.log.info("api_request", method="GET", path="/" + PAGE_PATH, status=200)

    def _refuse(self, refusal: Refusal) -> None:
        self._reply(refusal.status, {"error": refusal.error})

    def _read_body(self) -> bytes | Refusal:
        n = declared_length(self.headers)
        if isinstance(n, Refusal):
            self._unread = True
            return n
        if not n:
            return b""
        try:
            data = self.rfile.read(n)
        except TimeoutError:
            self._unread = True
            return Refusal(HTTPStatus.REQUEST_TIMEOUT, "the body did not arrive in time")
        if len(data) < n:
            return Refusal(HTTPStatus.BAD_REQUEST, "the body is shorter than its Content-Length")
        return data

    def _handle(self, method: str) -> None:
        if method == "GET" and self.path.split("?")[0] == "/" + PAGE_PATH:
            self._serve_page()
            return
        if not self._authorized():
            # Never read (or buffer) the body of a request that is not authenticated.
            self._unread = declared_length(self.headers) != 0
            self._reply(HTTPStatus.UNAUTHORIZED, {"error": "missing or wrong bearer token"})
            return
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        allowed = _allowed_methods(parts)
        if allowed is None:
            self._unread = declared_length(self.headers) != 0
            self._reply(HTTPStatus.NOT_FOUND, {"error": "no such endpoint"})
            return
        if method not in allowed:
            self._unread = declared_length(self.headers) != 0
            self._reply(
                HTTPStatus.METHOD_NOT_ALLOWED,
                {"error": f"method {method[:16]} not allowed here; use {allowed}"},
                allow=allowed,
            )
            return
        raw = self._read_body()
        if isinstance(raw, Refusal):
            self._refuse(raw)
            return
        try:
            self._route(method, parts, raw)
        except LiveError as exc:  # the manager could not do it (e.g. its store refused)
            self._reply(HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(exc)})
        except (IsoloopError, ValueError) as exc:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except Exception as exc:  # never a traceback on stderr: the manager's log has it
            self.server.log.error("api_error", path=parts[:3], error=repr(exc))
            self._reply(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {"error": "internal error; see manager.jsonl in the state folder"},
            )

    def _route(self, method: str, parts: list[str], raw: bytes) -> None:
        m = self.server.manager
        if parts == ["health"]:
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
        elif parts == ["state"]:
            self._reply(200, m.get_state())
        elif parts == ["strategies"]:
            self._reply(200, m.get_state()["strategies"])
        elif parts == ["feed", "step"]:
            self._reply(200, {"bar": m.step_feed()})
        elif parts in _GLOBAL_ACTIONS:
            names = m.pause_all() if parts == ["pause"] else m.resume_all()
            self._reply(200, {"scope": "global", "action": parts[0], "strategies": names})
        elif len(parts) == 2:
            self._reply(200, m.strategy_state(parts[1]))
        elif len(parts) == 3:
            name, action = parts[1], parts[2]
            if action == "pause":
                m.pause(name)
            elif action == "resume":
                m.resume(name)
            elif action == "start":
                m.start_strategy(name)
            else:
                m.stop_strategy(name)
            self._reply(200, {"strategy": name, "state": m.container(name).state})
        else:  # POST /kill
            body = parse_json_object(raw)
            if isinstance(body, Refusal):
                self._refuse(body)
                return
            req = kill_request(body)
            if isinstance(req, Refusal):
                self._refuse(req)
                return
            m.trip(
                req.state,
                req.reason or "operator via control API",
                strategy=req.strategy,
                by="api",
            )
            strategy = req.strategy
            state = m.kill_state if strategy is None else m.container(strategy).kill_state
            self._reply(200, {"scope": strategy or "global", "strategy": strategy, "state": state})


def _allowed_methods(parts: list[str]) -> str | None:
    """The method an endpoint takes, or None for no such endpoint."""
    if parts in (["health"], ["strategies"], ["state"]):
        return "GET"
    if parts in _GLOBAL_ACTIONS or parts == ["feed", "step"]:
        return "POST"
    if len(parts) == 2 and parts[0] == "strategies":
        return "GET"
    if len(parts) == 3 and parts[0] == "strategies" and parts[2] in _ACTIONS:
        return "POST"
    if parts == ["kill"]:
        return "POST"
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, manager: Controlled, token: str, port: int) -> None:
        self.manager = manager
        self.token = token
        self.log = manager.log
        super().__init__((LOOPBACK, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback on stderr; a request's failure belongs in the log.
        exc = sys.exc_info()[1]
        self.log.error("api_connection_error", error=repr(exc))


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
