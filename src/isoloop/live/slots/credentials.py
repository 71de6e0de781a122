"""Venue credentials from environment variables, checked when a container initializes.

A venue's own keys: `ISOLOOP_<ENVIRONMENT>__<VENUE>__<KEY>` (upper case). An exchange
venue's keys (`venue.exchange`), as the execution documents lay them out:
`BASIS_<ENV>__CEX__<EXCHANGE>_<SPOT|FUTURES>_<API_KEY|SECRET|PASSPHRASE>`, where ENV is
`TESTNET` when `venue.exchange.sandbox` is true and `LIVE` for `environment: live`
without sandbox (docs/security.md). Values live only in these objects: `repr`, errors
and logs name the variable, never its value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from isoloop.errors import CredentialsError
from isoloop.live.config import LiveConfig

__all__ = [
    "EXCHANGE_KEYS",
    "ExchangeCredentials",
    "StrategyCredentials",
    "VenueCredentials",
    "credential_env_name",
    "exchange_env_name",
    "exchange_environment",
    "is_placeholder",
]

_PLACEHOLDERS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "placeholder",
        "todo",
        "tbd",
        "none",
        "null",
        "secret",
        "password",
        "xxx",
        "dummy",
        "example",
        "your-api-key",
        "your_api_key",
        "replaceme",
        "replace-me",
        "replace_me",
        "insert_here",
        "fixme",
        "test",
        "sample",
        "redacted",
        "undefined",
        "0x",
    }
)
# Templates (`<key>`, `${KEY}`, `{{key}}`), masks (`xxxx`, `****`), `your_…` and
# `0x…` stand-ins: a real hex key is `0x` and hex digits, never `0x...`, `0x000…`
# or `0xYOUR_KEY`.
_PLACEHOLDER_RE = re.compile(
    r"^(<.*>|\$\{.*\}|\{\{.*\}\}|x+|\*+|\.+|…+|your[-_ ].*|0x(0*|x*|[.…]*|.*[^0-9a-f].*))$",
    re.IGNORECASE,
)
# An ellipsis anywhere marks an elided example value (`sk-...`, `abc…xyz`).
_ELIDED = ("...", "…")


def credential_env_name(environment: str, venue: str, key: str) -> str:
    def norm(s: str) -> str:
        return re.sub(r"[^A-Za-z0-9]", "_", s).upper()

    return f"ISOLOOP_{norm(environment)}__{norm(venue)}__{norm(key)}"


def is_placeholder(value: str) -> bool:
    v = value.strip()
    return (
        not v
        or v.lower() in _PLACEHOLDERS
        or any(e in v for e in _ELIDED)
        or bool(_PLACEHOLDER_RE.match(v))
    )


class VenueCredentials:
    """The secrets one container's venue needs, validated at construction."""

    __slots__ = ("_values", "environment", "keys", "strategy", "venue")

    def __init__(
        self,
        environment: str,
        venue: str,
        keys: tuple[str, ...] | list[str],
        strategy: str = "",
        env: Mapping[str, str] | None = None,
    ) -> None:
        source = os.environ if env is None else env
        self.environment = environment
        self.venue = venue
        self.strategy = strategy
        self.keys = tuple(keys)
        values: dict[str, str] = {}
        missing: list[str] = []
        placeholder: list[str] = []
        for key in self.keys:
            name = credential_env_name(environment, venue, key)
            value = source.get(name)
            if value is None:
                missing.append(name)
            elif is_placeholder(value):
                placeholder.append(name)
            else:
                values[key] = value
        who = f"strategy {strategy!r}: " if strategy else ""
        if missing:
            raise CredentialsError(
                f"{who}venue {venue!r} credential(s) not set: {', '.join(missing)}; "
                "export them in the environment of `isoloop live`"
            )
        if placeholder:
            raise CredentialsError(
                f"{who}venue {venue!r} credential(s) still hold a placeholder value: "
                f"{', '.join(placeholder)}; set the real value"
            )
        self._values = values

    def get(self, key: str) -> str:
        try:
            return self._values[key]
        except KeyError:
            raise CredentialsError(
                f"venue {self.venue!r}: no credential {key!r} configured "
                f"(configured: {', '.join(self.keys) or 'none'})"
            ) from None

    def secret_values(self) -> tuple[str, ...]:
        """For redaction checks; never log the result."""
        return tuple(self._values.values())

    def __repr__(self) -> str:
        return f"VenueCredentials({self.environment}/{self.venue}, keys={list(self.keys)}, ***)"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError("credentials are not picklable")


class StrategyCredentials(VenueCredentials):
    """The `credentials` slot: the keys a strategy's config lists, for its venue."""

    __slots__ = ()

    def __init__(self, live: LiveConfig, run_id: str) -> None:
        s = live.strategy(run_id)
        super().__init__(live.environment, s.venue.name, s.credentials, strategy=run_id)


# The keys each exchange's API signs with: OKX also needs the passphrase chosen when the
# key was created (ccxt's `password`).
EXCHANGE_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "binance": ("api_key", "secret"),
        "bybit": ("api_key", "secret"),
        "okx": ("api_key", "secret", "passphrase"),
    }
)
_MARKET_PART = MappingProxyType({"spot": "SPOT", "perp": "FUTURES"})


def exchange_environment(environment: str, sandbox: bool) -> str:
    """`TESTNET` for a sandbox, `LIVE` for `environment: live`; paper on a real endpoint is
    refused: real-money keys are never read by a config that says it trades on paper."""
    if sandbox:
        return "TESTNET"
    if environment == "live":
        return "LIVE"
    raise CredentialsError(
        f"environment: {environment} with a real exchange endpoint "
        "(venue.exchange.sandbox: false); set venue.exchange.sandbox: true to trade on the "
        "exchange's testnet (BASIS_TESTNET__... keys), or environment: live for real money "
        "(BASIS_LIVE__... keys)"
    )


def exchange_env_name(env: str, exchange: str, market: str, key: str) -> str:
    """`BASIS_LIVE__CEX__BINANCE_SPOT_API_KEY` for ("LIVE", "binance", "spot", "api_key")."""
    part = _MARKET_PART.get(market, market.upper())
    return f"BASIS_{env.upper()}__CEX__{exchange.upper()}_{part}_{key.upper()}"


def _other_environments(source: Mapping[str, str], name: str, env: str) -> list[str]:
    """Variables holding the same key under another ENV (`BASIS_TESTNET__…` for `BASIS_LIVE__…`)."""
    tail = name.removeprefix(f"BASIS_{env}")
    return sorted(
        n
        for n in source
        if n.startswith("BASIS_")
        and n.endswith(tail)
        and n != name
        and "__" not in n[6 : -len(tail)]
    )


def _switch(env: str) -> str:
    if env == "LIVE":
        return "set venue.exchange.sandbox: true to trade on the testnet with its keys"
    return "set venue.exchange.sandbox: false (with environment: live) for the live keys"


class ExchangeCredentials(VenueCredentials):
    """The `credentials` slot of an exchange venue: its API key and secret for one market.

    The config's `venue.exchange` says which exchange and market; a blueprint made for
    one (`args: {exchange: binance, market: spot}`) refuses a config naming another.
    A two-venue blueprint's slot names its `leg` instead (`spot` or `perp`): the keys of
    that leg, whatever `venue.exchange.market` says. Every variable is checked here,
    before the venue is built, and by the manager's pre-flight before any container.
    """

    __slots__ = ("exchange", "market", "variables")

    def __init__(
        self,
        live: LiveConfig,
        run_id: str,
        exchange: str | None = None,
        market: str | None = None,
        leg: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        s = live.strategy(run_id)
        who = f"strategy {run_id!r}"
        settings = s.venue.exchange
        if settings is None:
            raise CredentialsError(
                f"{who}: its blueprint trades on an exchange but venue.exchange is not set; "
                f"add venue: {{exchange: {{id: {exchange or 'binance'}, market: "
                f"{market or 'spot'}}}}} to the strategy (docs/live.md)"
            )
        for key, want, have in (("id", exchange, settings.id), ("market", market, settings.market)):
            if want is not None and want != have:
                raise CredentialsError(
                    f"{who}: venue.exchange.{key} is {have!r} but its blueprint "
                    f"({s.container or live.environment}) is for {want!r}; set container: "
                    f"{settings.id}_{settings.market} (the {settings.id} {settings.market} "
                    f"blueprint) or venue.exchange.{key}: {want}"
                )
        market = leg or settings.market
        if market not in _MARKET_PART:
            raise CredentialsError(f"{who}: credentials leg {market!r}: use spot or perp")
        try:
            env_name = exchange_environment(live.environment, settings.sandbox)
        except CredentialsError as exc:
            raise CredentialsError(f"{who}: {exc}") from None
        keys = EXCHANGE_KEYS.get(settings.id, ("api_key", "secret"))
        source = os.environ if env is None else env
        values: dict[str, str] = {}
        where = (
            f"(environment: {live.environment}, venue.exchange.sandbox: "
            f"{str(settings.sandbox).lower()} selects the {env_name} keys)"
        )
        for key in keys:
            name = exchange_env_name(env_name, settings.id, market, key)
            value = source.get(name)
            if value is None:
                others = _other_environments(source, name, env_name)
                if others:
                    raise CredentialsError(
                        f"{who}: {name} is not set, only {', '.join(others)} (another "
                        f"environment's key) {where}; export {name}, or {_switch(env_name)}"
                    )
                raise CredentialsError(
                    f"{who}: {settings.id} {market} credential {name} is not set {where}; "
                    "export it in the environment of `isoloop live` (docs/security.md)"
                )
            if is_placeholder(value):
                raise CredentialsError(
                    f"{who}: {name} still holds a placeholder value; export the real key "
                    "(docs/security.md)"
                )
            values[key] = value
        self.environment = env_name
        self.venue = s.venue.name
        self.strategy = run_id
        self.keys = keys
        self.exchange = settings.id
        self.market = market
        self.variables = tuple(exchange_env_name(env_name, settings.id, market, k) for k in keys)
        self._values = values

    def __repr__(self) -> str:
        return f"ExchangeCredentials({self.environment}/{self.exchange}/{self.market}, ***)"

    __str__ = __repr__
