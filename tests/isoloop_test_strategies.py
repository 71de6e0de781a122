"""Strategies used by tests to exercise failure paths."""

from __future__ import annotations

from isoloop.engine.strategy import Strategy


class RaisesOnBar(Strategy):
    """Raises a plain exception at one bar: a bug in user code, not bad input."""

    def init(self) -> None:
        self.bar = int(self.params.get("bar", 10))

    def on_bar(self, i: int) -> None:
        if i == self.bar:
            raise RuntimeError(f"strategy bug at bar {i}")
