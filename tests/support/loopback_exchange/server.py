"""The loopback exchange's HTTP side: a threaded stdlib server on 127.0.0.1.

Each request is counted per endpoint ("GET /api/v3/order"), may suffer an armed
fault, is authenticated when the route is SIGNED, then answered by a spot or USD-M
route. `/__control/*` (JSON) drives the same exchange from another process; see
`control.LoopbackControl`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .bars import market_specs
from .engine import ApiError, Engine
from .faults import Fault, FaultPlan
from .routes_common import Context, Route
from .signing import check_signed
from .spot_routes import SPOT_ROUTES
from .usdm_routes import USDM_ROUTES

__all__ = ["LoopbackExchange"]

ROUTES: dict[tuple[str, str], Route] = {**SPOT_ROUTES, **USDM_ROUTES}

# ccxt binance `urls['api']` key -> path prefix on this server.
_API_PREFIXES = {
    "public": "/api/v3",
    "private": "/api/v3",
    "v1": "/api/v1",
    "sapi": "/sapi/v1",
    "sapiV2": "/sapi/v2",
    "sapiV3": "/sapi/v3",
    "sapiV4": "/sapi/v4",
    "fapiPublic": "/fapi/v1",
    "fapiPublicV2": "/fapi/v2",
    "fapiPublicV3": "/fapi/v3",
    "fapiPrivate": "/fapi/v1",
    "fapiPrivateV2": "/fapi/v2",
    "fapiPrivateV3": "/fapi/v3",
    "fapiData": "/futures/data",
    "dapiPublic": "/dapi/v1",
    "dapiPrivate": "/dapi/v1",
    "dapiPrivateV2": "/dapi/v2",
    "dapiData": "/futures/data",
    "eapiPublic": "/eapi/v1",
    "eapiPrivate": "/eapi/v1",
    "papi": "/papi/v1",
    "papiV2": "/papi/v2",
}
MAINTENANCE = ApiError(503, -1001, "System is under maintenance.")
TOO_MANY = ApiError(
    429, -1003, "Too many requests; current limit of IP is 1200 requests per minute."
)
_GATEWAY_TEXT = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class LoopbackExchange:
    """A Binance spot + USD-M stand-in on 127.0.0.1; use as a context manager or start/stop.

    bars: per market, keyed `BTC/USDT` (spot), `BTC/USDT:USDT` (perp) or `BTCUSDT`
    (both); a DataFrame, isoloop Bars or a mapping of arrays (see bars.py).
    """

    def __init__(
        self,
        bars: Mapping[str, Any],
        api_key: str = "loopback-api-key",
        secret: str = "loopback-secret",
        *,
        spot_balances: Mapping[str, float] | None = None,
        futures_balance: float = 100_000.0,
        fee_rate: float = 0.0,
        tick_size: float = 0.01,
        step_size: float = 0.001,
        strict_client_ids: bool = False,
    ) -> None:
        self.api_key = api_key
        self.secret = secret
        self.engine = Engine(
            market_specs(bars),
            spot_balances={"USDT": 100_000.0} if spot_balances is None else spot_balances,
            futures_balance=futures_balance,
            fee_rate=fee_rate,
            strict_client_ids=strict_client_ids,
        )
        self.faults = FaultPlan()
        self.tick_size = Decimal(repr(tick_size))
        self.step_size = Decimal(repr(step_size))
        self._counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self.unknown_paths: list[str] = []
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> LoopbackExchange:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="loopback-exchange",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases requests held by a `timeout` fault
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackExchange:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the loopback exchange is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def urls(self) -> dict[str, str]:
        """What to put in ccxt binance `urls['api']` (and `venue.exchange.urls`)."""
        return {key: self.url + prefix for key, prefix in _API_PREFIXES.items()}

    def ccxt_config(self, market: str = "spot", timeout_ms: int = 10_000) -> dict[str, Any]:
        """A ready `ccxt.binance(...)` config for `market` "spot" or "perp"."""
        return {
            "apiKey": self.api_key,
            "secret": self.secret,
            "timeout": timeout_ms,
            "enableRateLimit": True,
            "urls": {"api": self.urls},
            "options": {"defaultType": "spot" if market == "spot" else "swap"},
        }

    # -- control (same calls over HTTP: /__control/*) -------------------------------------
    def set_bar(self, i: int) -> list[dict[str, Any]]:
        """Make bar i current; returns the resting-limit fills it caused."""
        before = len(self.engine.fills)
        self.engine.set_bar(i)
        return self.engine.fills_snapshot()[before:]

    def inject(self, fault: str, count: int | None = 1, **options: Any) -> Fault:
        """Arm `fault` (see faults.py) for `count` requests (None: until clear_faults)."""
        endpoint = str(options.get("endpoint", "*"))
        method, _, path = endpoint.rpartition(" ")
        known = {p for _, p in ROUTES} if not method else {p for m, p in ROUTES if m == method}
        if endpoint != "*" and path not in known:  # a typo would arm a fault that never fires
            raise ValueError(f"no route {endpoint!r} on the loopback exchange")
        return self.faults.arm(fault, count=count, **options)

    def clear_faults(self) -> None:
        self.faults.clear()

    @property
    def requests(self) -> dict[str, int]:
        """Requests received per endpoint ("POST /api/v3/order": 3), faulted ones included."""
        with self._count_lock:
            return dict(self._counts)

    def reset_requests(self) -> None:
        with self._count_lock:
            self._counts.clear()

    def orders(self) -> list[dict[str, Any]]:
        return self.engine.orders_snapshot()

    def fills(self) -> list[dict[str, Any]]:
        return self.engine.fills_snapshot()

    def balances(self) -> dict[str, Any]:
        return self.engine.balances_snapshot()

    def positions(self) -> dict[str, dict[str, float]]:
        return self.engine.positions_snapshot()

    def state(self) -> dict[str, Any]:
        return {
            "bar": self.engine.bar,
            "requests": self.requests,
            "orders": self.orders(),
            "fills": self.fills(),
            "balances": self.balances(),
            "positions": self.positions(),
            "faults": self.faults.armed(),
        }

    # -- request path (called by the handler thread) ----------------------------------------
    def count(self, method: str, path: str) -> None:
        with self._count_lock:
            self._counts[f"{method} {path}"] += 1

    def execute(
        self, method: str, path: str, api_key: str | None, query: str, body: str
    ) -> tuple[int, Any]:
        """Authenticate and run one request: (HTTP status, JSON body or text)."""
        route = ROUTES.get((method, path))
        if route is None:
            self.unknown_paths.append(f"{method} {path}")
            return 404, "Not Found"
        params = dict(parse_qsl(query, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        if route.signed:
            refused = check_signed(
                api_key,
                query,
                body,
                params,
                api_key=self.api_key,
                secret=self.secret,
                now_ms=self.engine.clock,
            )
            if refused is not None:
                return refused.status, {"code": refused.code, "msg": refused.msg}
        ctx = Context(
            self.engine, params, self.tick_size, self.step_size, self.faults.in_maintenance()
        )
        answer = route.handler(ctx)
        if isinstance(answer, ApiError):
            return answer.status, {"code": answer.code, "msg": answer.msg}
        return 200, answer

    def hold(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _error(err: ApiError) -> tuple[int, Any]:
    return err.status, {"code": err.code, "msg": err.msg}


def respond_with_fault(ex: LoopbackExchange, fault: Fault, run: Any) -> tuple[int, Any] | None:
    """The answer a faulted request gets; None means: close the socket, answer nothing."""
    kind = fault.kind
    if kind == "drop_before_apply":
        return None
    if kind == "drop_after_apply":
        run()
        return None
    if kind == "429":
        return _error(TOO_MANY)
    if kind == "maintenance":
        return _error(MAINTENANCE)
    if kind == "error":
        return _error(ApiError(fault.status or 400, fault.code, fault.msg))
    if kind == "5xx":
        if fault.apply:
            run()
        return fault.status, _GATEWAY_TEXT[fault.status]
    # timeout: the client gives up while the request is held
    if fault.apply_first:
        run()
    ex.hold(fault.seconds)
    if fault.apply and not fault.apply_first:
        run()
    return None


def _handler_for(ex: LoopbackExchange) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "loopback-binance/1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output clean

        def _send(self, status: int, payload: Any, extra: Mapping[str, str] = {}) -> None:
            text = payload if isinstance(payload, str) else json.dumps(payload)
            data = text.encode()
            self.send_response(status)
            ctype = "text/plain" if isinstance(payload, str) else "application/json"
            self.send_header("Content-Type", ctype + ";charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)  # a client that timed out has gone

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            if parts.path.startswith("/__control/"):
                status, payload = _control(ex, method, parts.path, body)
                self._send(status, payload)
                return
            ex.count(method, parts.path)
            key = self.headers.get("X-MBX-APIKEY")

            def run() -> tuple[int, Any]:
                return ex.execute(method, parts.path, key, parts.query, body)

            fault = ex.faults.take(method, parts.path)
            answer = run() if fault is None else respond_with_fault(ex, fault, run)
            if answer is None:
                self.close_connection = True
                return
            extra = {"Retry-After": str(fault.retry_after)} if fault and fault.kind == "429" else {}
            self._send(answer[0], answer[1], extra)

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

    return Handler


def _control(ex: LoopbackExchange, method: str, path: str, body: str) -> tuple[int, Any]:
    try:
        args = json.loads(body) if body else {}
        name = path.removeprefix("/__control/")
        if name == "state" and method == "GET":
            return 200, ex.state()
        if method != "POST":
            return 405, {"error": "control calls other than state are POST"}
        if name == "set_bar":
            return 200, {"fills": ex.set_bar(int(args["i"]))}
        if name == "inject":
            kind = args.pop("fault")
            ex.inject(kind, **args)
            return 200, {"armed": ex.faults.armed()}
        if name == "clear_faults":
            ex.clear_faults()
            return 200, {}
        if name == "reset_requests":
            ex.reset_requests()
            return 200, {}
        return 404, {"error": f"unknown control {name!r}"}
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        return 400, {"error": f"{type(exc).__name__}: {exc}"}
