"""Every `isoloop live` action against a manager that is not running.

An operator who types `isoloop live status` while nothing runs (or after the
manager stopped, with its `api.json` still naming the old URL) gets one
`error:` line that says no manager is running and how to start one, exit code
1 (the action did not happen: DESIGN.md's exit codes), an empty stdout even
with `--json`, and never a traceback. A URL that cannot be one is input the
user fixes: exit 2.
"""

from __future__ import annotations

import http.server
import json
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from isoloop.cli import main
from isoloop.live import LiveTradingManager
from support.live_helpers import live_config, strategy

pytestmark = pytest.mark.live

ISOLOOP = Path(sys.executable).parent / "isoloop"
# Every client action the CLI has, with the arguments that make it a complete request.
ACTIONS = {
    "status": ["status"],
    "status_one": ["status", "x"],
    "pause": ["pause", "x"],
    "resume": ["resume", "x"],
    "stop": ["stop", "x"],
    "kill_global": ["kill", "--state", "HALTED", "--reason", "test"],
    "kill_one": ["kill", "x", "--state", "REDUCING"],
    "kill_reset": ["kill", "--state", "ACTIVE"],
}


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def token_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("token") / "token"
    path.write_text(secrets.token_hex(16) + "\n")
    return path


@pytest.fixture(scope="module")
def stopped_manager_url(tmp_path_factory: pytest.TempPathFactory, token_file: Path) -> str:
    """The URL a manager wrote to STATE_DIR/api.json, read after that manager shut down."""
    state_dir = tmp_path_factory.mktemp("state")
    cfg = live_config(
        state_dir,
        [strategy("x")],
        bars=20,
        api={"enabled": True, "port": 0, "token_env": None, "token_file": str(token_file)},
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.api is not None
    url = str(json.loads((state_dir / "api.json").read_text(encoding="utf-8"))["url"])
    # The manager is gone: its port answers nothing any more.
    with (
        pytest.raises(OSError),
        socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), 2),
    ):
        pass
    return url


def _assert_not_running(code: int, out: str, err: str, url: str) -> None:
    assert code == 1, err
    assert out == ""  # `--json` promises one object on success; on failure nothing
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("error: no isoloop live manager is running at " + url)
    assert "isoloop live CONFIG" in line and "api.json" in line  # how to start / find one
    assert "Traceback" not in err and "run failed" not in line


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_nothing_listens_at_url(
    action: str, as_json: bool, token_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    argv = ["live", *ACTIONS[action], "--url", url, "--token-file", str(token_file)]
    code = main(argv + (["--json"] if as_json else []))
    out, err = capsys.readouterr()
    _assert_not_running(code, out, err, url)


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_manager_dir_of_a_stopped_manager(
    action: str,
    as_json: bool,
    token_file: Path,
    stopped_manager_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["live", *ACTIONS[action], "--url", stopped_manager_url, "--token-file", str(token_file)]
    code = main(argv + (["--json"] if as_json else []))
    out, err = capsys.readouterr()
    _assert_not_running(code, out, err, stopped_manager_url)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_default_url_from_the_environment(
    action: str,
    token_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("ISOLOOP_LIVE_URL", url)
    code = main(["live", *ACTIONS[action], "--token-file", str(token_file), "--json"])
    out, err = capsys.readouterr()
    _assert_not_running(code, out, err, url)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_console_script_against_a_stopped_manager(
    action: str, token_file: Path, stopped_manager_url: str
) -> None:
    """The installed `isoloop` process: the exit code and stderr a shell script sees."""
    argv = [str(ISOLOOP), "live", *ACTIONS[action], "--url", stopped_manager_url, "--json"]
    proc = subprocess.run(
        [*argv, "--token-file", str(token_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    _assert_not_running(proc.returncode, proc.stdout, proc.stderr, stopped_manager_url)


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("127.0.0.1:8765", "not an http:// URL"),
        ("ftp://127.0.0.1:8765", "not an http:// URL"),
        ("http://[::1", "not a valid URL"),
        ("http://127.0.0.1:99999", "not a valid URL"),
        ("http://127.0.0.1:port", "not a valid URL"),
    ],
)
@pytest.mark.parametrize("source", ["--url", "ISOLOOP_LIVE_URL"])
def test_a_url_that_cannot_be_one_is_input_exit_2(
    url: str,
    needle: str,
    source: str,
    token_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["live", "status", "--json", "--token-file", str(token_file)]
    if source == "--url":
        argv += ["--url", url]
    else:
        monkeypatch.setenv("ISOLOOP_LIVE_URL", url)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == "" and len(lines) == 1, err
    assert lines[0].startswith(f"error: {source}: ") and needle in lines[0]


class _HtmlHandler(http.server.BaseHTTPRequestHandler):
    def _page(self) -> None:
        body = b"<html>some other service</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # the name http.server dispatches to
        self._page()

    def do_POST(self) -> None:
        self._page()

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def other_http_service() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HtmlHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def not_http_service() -> Iterator[str]:
    """A port whose service answers every connection with a line that is not HTTP."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    done = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        done.set()
        thread.join(5)
        listener.close()


@pytest.mark.parametrize("service", ["other_http_service", "not_http_service"])
@pytest.mark.parametrize("action", ["status", "status_one", "pause", "kill_global"])
def test_another_service_on_the_port_is_named_not_a_manager(
    service: str,
    action: str,
    token_file: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = request.getfixturevalue(service)
    code = main(["live", *ACTIONS[action], "--url", url, "--token-file", str(token_file), "--json"])
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert code == 1 and out == "" and len(lines) == 1, err
    assert lines[0].startswith("error: ") and "not as an isoloop live control API" in lines[0]
    assert "Traceback" not in err
