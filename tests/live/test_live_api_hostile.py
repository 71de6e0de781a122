"""The control API of a real `isoloop live` process under hostile requests: it authenticates
before reading a body, caps bodies and JSON depth, answers every malformed request with a
4xx JSON error, and never puts a traceback on the manager's stderr."""

from __future__ import annotations

import http.client
import json
import secrets
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import psutil
import pytest

from isoloop.live import ControlClient
from support.live_process import TOKEN_ENV, LiveProcess, live_env, paper_three_config

pytestmark = pytest.mark.live

HUGE = 536_870_912  # 512 MiB announced, never meant to be sent
MIB = 1 << 20


class Manager:
    def __init__(self, proc: LiveProcess, url: str, token: str) -> None:
        self.proc = proc
        self.port = int(urlsplit(url).port or 0)
        self.token = token
        self.client = ControlClient(url, token)

    def rss(self) -> int:
        return int(psutil.Process(self.proc.pid).memory_info().rss)


@pytest.fixture(scope="module")
def manager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Manager]:
    tmp = tmp_path_factory.mktemp("hostile")
    token = secrets.token_hex(16)
    # A slow replay: the manager stays up for the whole module, its memory steady.
    config = paper_three_config(tmp / "live.yaml", tmp / "state", speed=3600 * 5)
    proc = LiveProcess(config, tmp / "state", live_env(token), "manager")
    try:
        m = Manager(proc, proc.url(), token)
        yield m
        # Still healthy, nothing tripped by any refused request ...
        assert m.client.health()["kill_switch"] == "ACTIVE"
        proc.proc.send_signal(signal.SIGTERM)
        proc.proc.wait(timeout=60)
        assert proc.proc.returncode == 0, proc.stderr()
        # ... and nothing on stderr, no traceback in particular.
        assert "Traceback" not in proc.stderr()
        assert proc.stderr().strip() == ""
    finally:
        proc.close()


def _head(method: str, path: str, headers: dict[str, str], version: str = "HTTP/1.1") -> bytes:
    lines = [
        f"{method} {path} {version}",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _exchange(
    m: Manager, data: bytes, *, stream_mib: int = 0, timeout: float = 10.0
) -> tuple[int, dict[str, str], Any, int]:
    """Send `data` (then up to `stream_mib` MiB more, as a client pushing a body would) and
    read the answer: (status, headers, JSON body, MiB the server let us send)."""
    sock = socket.create_connection(("127.0.0.1", m.port), timeout=timeout)
    sent = [0]
    pusher: threading.Thread | None = None
    try:
        sock.sendall(data)
        if stream_mib:

            def push() -> None:
                chunk = b"x" * MIB
                try:
                    for _ in range(stream_mib):
                        sock.sendall(chunk)
                        sent[0] += 1
                except OSError:
                    pass  # the server closed: exactly what a refused body should get

            pusher = threading.Thread(target=push, daemon=True)
            pusher.start()
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        body = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        if pusher is not None:
            pusher.join(timeout)
        return resp.status, headers, json.loads(body), sent[0]
    finally:
        sock.close()


def _assert_json_error(status: int, headers: dict[str, str], body: Any, expected: int) -> None:
    assert status == expected, body
    assert headers["content-type"] == "application/json"
    assert headers.get("connection") == "close"
    assert isinstance(body, dict) and isinstance(body["error"], str) and body["error"]


def _auth(m: Manager, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}", **extra}


@pytest.mark.parametrize("authenticated", [False, True])
def test_a_512_mib_content_length_is_refused_without_reading_the_body(
    manager: Manager, authenticated: bool
) -> None:
    headers = {"Content-Length": str(HUGE), "Content-Type": "application/json"}
    if authenticated:
        headers = _auth(manager, **headers)
    before = manager.rss()
    status, hdrs, body, sent = _exchange(manager, _head("POST", "/kill", headers), stream_mib=64)
    time.sleep(0.5)
    grown = manager.rss() - before
    _assert_json_error(status, hdrs, body, 401 if not authenticated else 413)
    # The server stopped taking the body: the client could not push its 64 MiB ...
    assert sent < 64
    # ... and the manager did not buffer it.
    assert grown < 8 * MIB, f"manager RSS grew by {grown / MIB:.1f} MiB"


def test_expect_100_continue_gets_the_401_first(manager: Manager) -> None:
    data = _head("POST", "/kill", {"Content-Length": str(HUGE), "Expect": "100-continue"})
    status, hdrs, body, _ = _exchange(manager, data)
    _assert_json_error(status, hdrs, body, 401)


def _nested(levels: int) -> str:
    return '{"reason": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"


@pytest.mark.parametrize(
    ("length", "payload", "expected", "needle"),
    [
        ("-1", b"", 400, "Content-Length"),
        ("abc", b"", 400, "Content-Length"),
        ("1e3", b"", 400, "Content-Length"),
        (" 12 ", b'{"state": 1}', 400, "state must be a string"),
        ("9" * 40, b"", 400, "Content-Length"),
        (None, b'{"state": ', 400, "not valid JSON"),
        (None, b"\xff\xfe{}", 400, "UTF-8"),
        (None, b"[1, 2]", 400, "JSON object"),
        (None, ("[" * 40000 + "]" * 20000).encode(), 400, "deeper than 32"),
        (None, _nested(33).encode(), 400, "deeper than 32"),
        (None, _nested(32).encode(), 400, "reason must be a string"),
        (None, b'{"strategy": ["fast"]}', 400, "strategy must be a name"),
        (None, b'{"state": "HALTED", "by": "me"}', 400, "unknown field"),
        (None, b'{"state": "PANIC"}', 400, "kill switch state"),
        (None, b'{"state": "HALTED", "strategy": "nobody"}', 400, "no strategy named"),
        (None, b"1" * (64 * 1024 + 1), 413, "larger than"),
    ],
)
def test_bad_bodies_get_a_4xx_json_error(
    manager: Manager, length: str | None, payload: bytes, expected: int, needle: str
) -> None:
    headers = _auth(manager, **{"Content-Length": length or str(len(payload))})
    status, hdrs, body, _ = _exchange(manager, _head("POST", "/kill", headers) + payload)
    _assert_json_error(status, hdrs, body, expected)
    assert needle in body["error"]


def test_conflicting_lengths_and_chunked_bodies_are_refused(manager: Manager) -> None:
    two = _head("POST", "/kill", _auth(manager)).replace(
        b"\r\n\r\n", b"\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
    )
    _assert_json_error(*_exchange(manager, two)[:3], 400)
    chunked = _head("POST", "/kill", _auth(manager, **{"Transfer-Encoding": "chunked"}))
    _assert_json_error(*_exchange(manager, chunked + b"2\r\n{}\r\n0\r\n\r\n")[:3], 411)


def test_a_body_cut_short_is_refused(manager: Manager) -> None:
    sock = socket.create_connection(("127.0.0.1", manager.port), timeout=10)
    try:
        sock.sendall(_head("POST", "/kill", _auth(manager, **{"Content-Length": "100"})) + b"{")
        sock.shutdown(socket.SHUT_WR)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        _assert_json_error(
            resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(resp.read()), 400
        )
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("method", "path", "authenticated", "expected"),
    [
        ("PUT", "/kill", True, 405),
        ("DELETE", "/health", True, 405),
        ("GET", "/kill", True, 405),
        ("POST", "/strategies", True, 405),
        ("FROB", "/health", True, 405),
        ("FROB", "/health", False, 401),
        ("GET", "/nope", True, 404),
        ("POST", "/strategies/fast/explode", True, 404),
        ("GET", "/strategies/fast/pause/x", True, 404),
        ("GET", "/nope", False, 401),
    ],
)
def test_wrong_methods_and_unknown_paths(
    manager: Manager, method: str, path: str, authenticated: bool, expected: int
) -> None:
    headers = _auth(manager) if authenticated else {}
    status, hdrs, body, _ = _exchange(manager, _head(method, path, headers))
    _assert_json_error(status, hdrs, body, expected)
    if expected == 405:
        assert hdrs["allow"] in ("GET", "POST")


@pytest.mark.parametrize(
    "data",
    [
        b"HELLO\r\n\r\n",
        b"GET /health HTTP/9.9\r\n\r\n",
        b"GET /health HTTP/1.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n",
        b"GET /health HTTP/1.1\r\nno colon here\r\n\r\n",
    ],
    ids=["no-request-line", "http-9.9", "header-too-long", "bad-header"],
)
def test_malformed_requests_get_a_4xx_json_error(manager: Manager, data: bytes) -> None:
    status, hdrs, body, _ = _exchange(manager, data)
    assert 400 <= status < 500, body
    assert hdrs["content-type"] == "application/json"
    assert isinstance(body["error"], str)


def test_a_good_client_keeps_its_connection(manager: Manager) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", manager.port, timeout=10)
    try:
        body = json.dumps({"state": "ACTIVE", "reason": "keep-alive check"})
        conn.request("POST", "/kill", body=body, headers=_auth(manager))
        first = conn.getresponse()
        assert first.status == 200 and json.loads(first.read())["state"] == "ACTIVE"
        conn.request("GET", "/health", headers=_auth(manager))
        second = conn.getresponse()
        assert second.status == 200 and json.loads(second.read())["status"] == "ok"
    finally:
        conn.close()


def test_every_refusal_left_the_manager_serving(manager: Manager) -> None:
    assert manager.client.health()["status"] == "ok"
    assert set(manager.client.strategies()) == {"fast", "medium", "slow"}
    assert TOKEN_ENV  # the token came from this variable, as in production
