"""What the control API accepts from a request, checked before anything acts on it.

Every check answers with a `Refusal` (an HTTP status and a one-line reason that
never quotes the request) instead of raising, so a malformed request can never
become a traceback: the body is capped before it is read, its nesting depth is
measured before it is parsed, and the kill endpoint's fields are type-checked.
"""

from __future__ import annotations

import json
import re
from email.message import Message
from http import HTTPStatus
from typing import Any, NamedTuple

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_REASON_CHARS",
    "KillRequest",
    "Refusal",
    "declared_length",
    "json_depth",
    "kill_request",
    "parse_json_object",
]

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
MAX_REASON_CHARS = 1000
_LENGTH = re.compile(r"[0-9]{1,18}")
_KILL_FIELDS = frozenset({"state", "strategy", "reason"})


class Refusal(NamedTuple):
    status: int
    error: str


def declared_length(headers: Message) -> int | Refusal:
    """The body size the request declares (0 without one), within `MAX_BODY_BYTES`."""
    if headers.get("Transfer-Encoding") is not None:
        return Refusal(
            HTTPStatus.LENGTH_REQUIRED,
            "send the body with a Content-Length (Transfer-Encoding is not accepted)",
        )
    values = [v.strip() for v in headers.get_all("Content-Length") or []]
    if not values:
        return 0
    if len(set(values)) > 1:
        return Refusal(HTTPStatus.BAD_REQUEST, "conflicting Content-Length headers")
    if _LENGTH.fullmatch(values[0]) is None:
        return Refusal(HTTPStatus.BAD_REQUEST, "Content-Length must be a non-negative integer")
    n = int(values[0])
    if n > MAX_BODY_BYTES:
        return Refusal(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the body is larger than {MAX_BODY_BYTES} bytes",
        )
    return n


def json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply arrays and objects nest in `text` (strings skipped); stops past `limit`."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_json_object(data: bytes) -> dict[str, Any] | Refusal:
    """An empty body is `{}`; otherwise a JSON object of at most `MAX_JSON_DEPTH` levels."""
    if not data.strip():
        return {}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(HTTPStatus.BAD_REQUEST, "the body is not UTF-8")
    if json_depth(text) > MAX_JSON_DEPTH:
        return Refusal(
            HTTPStatus.BAD_REQUEST, f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
        )
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return Refusal(
            HTTPStatus.BAD_REQUEST,
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
        )
    except (ValueError, RecursionError):
        return Refusal(HTTPStatus.BAD_REQUEST, "the body is not valid JSON")
    if not isinstance(value, dict):
        return Refusal(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
    return value


class KillRequest(NamedTuple):
    state: str
    strategy: str | None
    reason: str | None


def kill_request(body: dict[str, Any]) -> KillRequest | Refusal:
    """`{"state": str, "strategy": str | null, "reason": str | null}`, nothing else."""
    unknown = sorted(k for k in body if k not in _KILL_FIELDS)
    if unknown:
        return Refusal(
            HTTPStatus.BAD_REQUEST,
            f"unknown field(s) {unknown[:5]}; the body takes state, strategy and reason",
        )
    state = body.get("state", "HALTED")
    strategy = body.get("strategy")
    reason = body.get("reason")
    if not isinstance(state, str):
        return Refusal(HTTPStatus.BAD_REQUEST, "state must be a string")
    if strategy is not None and not isinstance(strategy, str):
        return Refusal(HTTPStatus.BAD_REQUEST, "strategy must be a name or null")
    if reason is not None and not isinstance(reason, str):
        return Refusal(HTTPStatus.BAD_REQUEST, "reason must be a string or null")
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        return Refusal(
            HTTPStatus.BAD_REQUEST, f"reason is longer than {MAX_REASON_CHARS} characters"
        )
    return KillRequest(state, strategy, reason)
