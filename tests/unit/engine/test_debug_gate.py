"""The tight loop gathers a handshake's debug fields only for a logger that keeps them."""

from __future__ import annotations

import logging
from typing import Any

import structlog

from isoloop.engine.tight_loop import debug_of


class _Collect:
    """A structlog wrapped logger that keeps every rendered record."""

    def __init__(self) -> None:
        self.lines: list[Any] = []

    def msg(self, line: Any) -> None:
        self.lines.append(line)

    debug = info = warning = error = critical = msg


def _logger(level: int, sink: _Collect) -> Any:
    return structlog.wrap_logger(
        sink,
        processors=[structlog.processors.KeyValueRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(level),
    )


def test_a_logger_above_debug_gets_no_debug_call_and_a_debug_logger_keeps_its_records() -> None:
    quiet, loud = _Collect(), _Collect()
    assert debug_of(_logger(logging.WARNING, quiet)) is None
    debug = debug_of(_logger(logging.DEBUG, loud).bind(run_id="r"))
    assert debug is not None
    debug("execution_handshake", order_id="O0000001")
    assert loud.lines == ["run_id='r' order_id='O0000001' event='execution_handshake'"]


def test_a_logger_that_cannot_say_its_level_keeps_debug() -> None:
    class Plain:
        def __init__(self) -> None:
            self.seen: list[str] = []

        def debug(self, event: str, **fields: Any) -> None:
            self.seen.append(event)

    log = Plain()
    debug = debug_of(log)
    assert debug is not None
    debug("execution_handshake", order_id="O1")
    assert log.seen == ["execution_handshake"]
