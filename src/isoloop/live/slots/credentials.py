"""Venue credentials from environment variables, checked when a container initializes.

`ISOLOOP_<ENVIRONMENT>__<VENUE>__<KEY>` (upper case). Values live only in this
object: `repr`, errors and logs name the variable, never its value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from isoloop.errors import CredentialsError
from isoloop.live.config import LiveConfig

__all__ = ["StrategyCredentials", "VenueCredentials", "credential_env_name", "is_placeholder"]

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
