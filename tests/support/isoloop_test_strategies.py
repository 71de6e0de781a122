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


class ClassCounter(Strategy):
    """Leaky on purpose: counts bars in a class attribute shared by every run."""

    seen: list[int] = []  # noqa: RUF012 - the leak under test

    def on_bar(self, i: int) -> None:
        self.seen.append(i)


class RebindsClassAttr(Strategy):
    """Leaky on purpose: rebinds a class-level counter."""

    runs = 0

    def init(self) -> None:
        type(self).runs += 1


class WritesSharedData(Strategy):
    """Leaky on purpose: tries to write into the shared, read-only bars."""

    def init(self) -> None:
        self.data.close[0] = 0.0


class ModuleGlobalLeak(Strategy):
    """Leaky on purpose, in a way isoloop does not catch: a module-level dict."""

    def on_bar(self, i: int) -> None:
        _GLOBAL_LEAK[i] = _GLOBAL_LEAK.get(i, 0) + 1


_GLOBAL_LEAK: dict[int, int] = {}
