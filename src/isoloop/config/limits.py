"""Caps on every input, each raisable through an environment variable.

A hostile or mistaken input (a 100 MB YAML file, a 10¹² point grid, a one-line
1 GB CSV) must end in one `error:` line before anything large is allocated, not
in a segfault, a MemoryError or a hung `validate`. Each cap has a default that
fits ordinary work and an `ISOLOOP_MAX_*` variable to raise it; the error says
which. The variables are read when a check runs (never cached in the module),
so a sweep's workers, which inherit the environment, see the same caps.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import MappingProxyType

from isoloop.errors import ConfigError, LimitExceeded

__all__ = ["LIMITS", "Limit", "check_limit", "exceeded", "limit_value", "shorten"]


@dataclass(frozen=True, slots=True)
class Limit:
    """One cap: what it bounds, its default and the variable that raises it."""

    key: str
    env: str
    default: int
    what: str


LIMITS: MappingProxyType[str, Limit] = MappingProxyType(
    {
        lim.key: lim
        for lim in (
            Limit("yaml_bytes", "ISOLOOP_MAX_YAML_BYTES", 1_048_576, "YAML file size in bytes"),
            Limit("yaml_depth", "ISOLOOP_MAX_YAML_DEPTH", 64, "YAML nesting depth"),
            Limit(
                "yaml_nodes",
                "ISOLOOP_MAX_YAML_NODES",
                100_000,
                "YAML values (aliases counted as often as they are used)",
            ),
            Limit("string_chars", "ISOLOOP_MAX_STRING_CHARS", 10_000, "characters in one value"),
            Limit("int_digits", "ISOLOOP_MAX_INT_DIGITS", 100, "digits in one integer"),
            Limit(
                "grid_points",
                "ISOLOOP_MAX_GRID_POINTS",
                250_000,
                "points of a sweep (grid points, one dimension's values, or trials)",
            ),
            Limit("bars", "ISOLOOP_MAX_BARS", 5_000_000, "bars (rows) per data source"),
            Limit("data_bytes", "ISOLOOP_MAX_DATA_BYTES", 536_870_912, "data file size in bytes"),
            Limit("csv_line_bytes", "ISOLOOP_MAX_CSV_LINE_BYTES", 65_536, "bytes in one CSV line"),
        )
    }
)


def limit_value(key: str) -> int:
    """The cap in force: the environment variable if set, else the default."""
    lim = LIMITS[key]
    text = os.environ.get(lim.env, "").strip()
    if not text:
        return lim.default
    if not text.isdigit() or len(text) > 18 or int(text) < 1:
        raise ConfigError(
            f"environment variable {lim.env} must be a positive whole number "
            f"(the cap on {lim.what}; default {lim.default:_})"
        )
    return int(text)


def check_limit(key: str, actual: int, where: str, *, at_least: bool = False) -> None:
    """Raise `LimitExceeded` when `actual` is over the cap for `key`.

    `at_least` says `actual` is a lower bound (counting stopped at the cap), so the
    message reads "more than N" rather than a precise size.
    """
    cap = limit_value(key)
    if actual <= cap:
        return
    raise exceeded(key, where, None if at_least else f"{actual:_}", cap)


def exceeded(key: str, where: str, actual: str | None, cap: int | None = None) -> LimitExceeded:
    """The one-line error for a cap: where, what, the limit and how to raise it.

    `actual` is the size found, or None when counting stopped at the cap.
    """
    lim = LIMITS[key]
    cap = limit_value(key) if cap is None else cap
    size = f"is {actual}, over" if actual is not None else "is over"
    return LimitExceeded(
        f"{where}: {lim.what} {size} the limit of {cap:_}; make the input smaller, "
        f"or raise the limit with the environment variable {lim.env}=N"
    )


def shorten(text: str, width: int = 60) -> str:
    """`text` cut to `width` characters (for echoing a user's value in one line)."""
    return text if len(text) <= width else text[: width - 1] + "…"
