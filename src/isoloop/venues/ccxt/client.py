"""The ccxt exchange object behind one venue, and the account read in the books' terms.

Every request goes through `ExchangeClient.call`: it honours a `Retry-After` the
exchange sent (no request leaves before it), counts requests per method (what the
fault tests report), and turns a ccxt exception into a scrubbed `RequestFailed`
that names its fault, never a credential or a signed URL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from isoloop.config.models import ExchangeConfig
from isoloop.errors import ConfigError
from isoloop.errors import ExchangeRequestFailed as RequestFailed
from isoloop.venues.ccxt.faults import classify, retry_after, scrub

__all__ = ["AccountView", "Credentials", "ExchangeClient", "RequestFailed"]

# The unified-API calls the adapter makes; any other attribute is refused.
_METHODS = frozenset(
    {
        "load_markets",
        "create_order",
        "cancel_order",
        "fetch_order",
        "fetch_my_trades",
        "fetch_balance",
        "fetch_positions",
    }
)


class Credentials(Protocol):
    """What the venue needs from the `credentials` slot."""

    def get(self, key: str) -> str: ...


class AccountView:
    """Cash and positions as the books keep them: cash moves by −qty·price on every fill
    (spot and perp alike), positions are signed units per `venue:position_type:symbol`.

    Spot: cash = the quote asset's total, position = the base asset's total, both
    before the venue subtracts its baseline. Linear perp: cash = wallet balance − Σ qty·entry price
    (the wallet holds realized PnL; what the books moved for the open position is its
    cost), position = the signed contracts × contract size."""

    def __init__(self, cash: float, positions: dict[str, float]) -> None:
        self.cash = cash
        self.positions = positions


def _secret(credentials: Credentials, key: str) -> str:
    try:
        return credentials.get(key)
    except (KeyError, LookupError):
        return ""


class ExchangeClient:
    """One ccxt exchange instance for one venue (its market type and symbols)."""

    def __init__(self, settings: ExchangeConfig, credentials: Credentials, log: Any) -> None:
        try:
            import ccxt  # type: ignore[import-untyped]  # lazily: `import isoloop` stays light
        except ImportError:
            raise ConfigError(
                "venue.exchange: the ccxt venue needs ccxt, which is not installed; "
                "install the extra: pip install 'isoloop[exchanges]'"
            ) from None

        self.settings = settings
        self._log = log
        key, secret = _secret(credentials, "api_key"), _secret(credentials, "secret")
        passphrase = _secret(credentials, "passphrase") if settings.id == "okx" else ""
        self._secrets = tuple(s for s in (key, secret, passphrase) if s)
        perp = settings.market == "perp"
        options: dict[str, Any] = {"defaultType": "swap" if perp else "spot"}
        if settings.id == "binance":
            # Only the market type this venue trades, and no private currency listing.
            options["fetchMarkets"] = {"types": ["linear" if perp else "spot"]}
            options["fetchCurrencies"] = False
        cls = getattr(ccxt, settings.id)
        config: dict[str, Any] = {
            "apiKey": key,
            "secret": secret,
            "enableRateLimit": settings.rate_limit,
            "timeout": settings.timeout_ms,
            "options": options,
        }
        if passphrase:
            config["password"] = passphrase
        self._ex = cls(config)
        if settings.sandbox:
            self._ex.set_sandbox_mode(True)
        if settings.urls:
            api = self._ex.urls.get("api")
            if isinstance(api, dict):
                self._ex.urls["api"] = {**api, **settings.urls}
            else:
                self._ex.urls["api"] = dict(settings.urls)
        self.requests: dict[str, int] = {}
        self.faults: dict[str, int] = {}
        self._not_before = 0.0
        self._lock = threading.Lock()
        self.quote = ""

    def __repr__(self) -> str:
        # Never the ccxt object's repr: it holds the keys.
        return f"ExchangeClient({self.settings.id}, {self.settings.market})"

    @property
    def perp(self) -> bool:
        return self.settings.market == "perp"

    def scrub(self, text: str) -> str:
        return scrub(text, self._secrets)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """One request: wait out any Retry-After, send, count; a failure → `RequestFailed`."""
        if method not in _METHODS:
            raise AttributeError(method)
        fn: Callable[..., Any] = getattr(self._ex, method)
        with self._lock:
            wait = self._not_before - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.requests[method] = self.requests.get(method, 0) + 1
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                fault = classify(exc)
                if fault == "other" and not _is_ccxt(exc):
                    raise
                if fault != "not_found":  # an answer ("no such order"), not a fault
                    self.faults[fault] = self.faults.get(fault, 0) + 1
                if fault == "rate_limit":
                    headers = getattr(self._ex, "last_response_headers", None)
                    delay = retry_after(headers, 1.0)
                    self._not_before = time.monotonic() + delay
                msg = self.scrub(f"{self.settings.id} {method}: {type(exc).__name__}: {exc}")
                raise RequestFailed(fault, msg) from None

    def market(self, symbol: str) -> dict[str, Any]:
        m: dict[str, Any] = self._ex.market(symbol)
        return m

    def load(self, symbols: list[str]) -> None:
        self.call("load_markets")
        markets = self._ex.markets or {}
        for sym in symbols:
            if sym not in markets:
                kind = "perp" if self.perp else "spot"
                near = sorted(m for m in markets if m.split(":")[0] == sym.split(":")[0])
                raise ConfigError(
                    f"venue.exchange.symbols: {sym!r} is not a {self.settings.id} {kind} market"
                    + (f" (did you mean {', '.join(near[:3])}?)" if near else "")
                    + "; map the feed's symbol to ccxt's, e.g. {BTCUSD: BTC/USDT}"
                )
        quotes = {str(self.market(s)["quote"]) for s in symbols}
        self.quote = sorted(quotes)[0] if quotes else "USDT"

    # -- the account ---------------------------------------------------------------
    def account(self, keys: dict[str, str]) -> AccountView:
        """`keys`: ccxt symbol → the books' position key of this venue. Positions are the
        exchange's own (the venue subtracts the baseline)."""
        balance = self.call("fetch_balance")
        total = balance.get("total") or {}
        if not self.perp:
            positions: dict[str, float] = {}
            for sym, key in keys.items():
                positions[key] = float(total.get(str(self.market(sym)["base"])) or 0.0)
            return AccountView(float(total.get(self.quote) or 0.0), positions)
        wallet = _wallet_balance(balance.get("info"), self.quote)
        positions = dict.fromkeys(keys.values(), 0.0)
        cost = 0.0
        unrealized = 0.0
        for p in self.call("fetch_positions", list(keys)):
            key = keys.get(str(p.get("symbol")), "")
            contracts = float(p.get("contracts") or 0.0)
            if not key or not contracts:
                continue
            size = contracts * float(p.get("contractSize") or 1.0)
            qty = -size if p.get("side") == "short" else size
            positions[key] += qty
            cost += qty * float(p.get("entryPrice") or 0.0)
            unrealized += float(p.get("unrealizedPnl") or 0.0)
        if wallet is None:
            wallet = float(total.get(self.quote) or 0.0) - unrealized
        return AccountView(wallet - cost, positions)


def _wallet_balance(info: Any, quote: str) -> float | None:
    """The quote asset's wallet balance in a futures account answer, if it carries one."""
    entries = info if isinstance(info, list) else (info or {}).get("assets", [])
    for e in entries if isinstance(entries, list) else []:
        if isinstance(e, dict) and e.get("asset") == quote:
            for name in ("walletBalance", "crossWalletBalance", "balance"):
                if e.get(name) is not None:
                    return float(e[name])
    return None


def _is_ccxt(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("ccxt")
