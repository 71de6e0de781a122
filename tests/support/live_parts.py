"""Extra container modules for the live shutdown tests: they record their stop order."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


class _Traced:
    def __init__(self, label: str, record: str, hang: float = 0.0, hang_start: float = 0.0) -> None:
        self.label = label
        self.record = Path(record)
        self.hang = hang
        self.hang_start = hang_start

    def _write(self, text: str) -> None:
        with self.record.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")

    def start(self) -> None:
        self._write(f"start {self.label}")
        if self.hang_start:
            time.sleep(self.hang_start)

    def stop(self) -> None:
        self._write(f"stop {self.label}")
        if self.hang:
            time.sleep(self.hang)
            self._write(f"unhung {self.label}")


class FirstModule(_Traced):
    """Needs the clock: initialized early."""

    def __init__(
        self, clock: Any, label: str, record: str, hang: float = 0.0, hang_start: float = 0.0
    ) -> None:
        super().__init__(label, record, hang, hang_start)


class MiddleModule(_Traced):
    """Needs the store: initialized after it, so stopped before it."""

    def __init__(
        self, store: Any, label: str, record: str, hang: float = 0.0, hang_start: float = 0.0
    ) -> None:
        super().__init__(label, record, hang, hang_start)


class LastModule(_Traced):
    """Needs the engine: initialized last, stopped first."""

    def __init__(
        self, engine: Any, label: str, record: str, hang: float = 0.0, hang_start: float = 0.0
    ) -> None:
        super().__init__(label, record, hang, hang_start)
