"""backtesting.py's `Strategy` surface as a subclass of isoloop's native `Strategy`.

A ported strategy keeps its `init()`/`next()`, class-level parameters,
`self.I`, `self.data.Close[-1]`, `self.position`, `self.trades`,
`self.orders` and `self.buy(size=…, sl=…, tp=…)`. Underneath, `next()` is
called from the native `on_bar(i)` after the data columns and every indicator
attribute have been cut to bars `0..i`, and orders go through the native order
gateway (risk checks and all), so the run has the same isolated scope, digest
and results as any isoloop run.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from isoloop.compat.backtesting._data import Data, Indicator, ohlcv_columns
from isoloop.compat.backtesting._orders import Order, Position
from isoloop.engine.books import OrderView
from isoloop.engine.clock import SimulatedClock
from isoloop.engine.execution import ExecutionManager
from isoloop.engine.positions import PositionMonitor
from isoloop.engine.strategy import ALL_EQUITY
from isoloop.engine.strategy import Strategy as NativeStrategy
from isoloop.errors import StrategyParamError

__all__ = ["Strategy"]

_OHLCV = frozenset({"Open", "High", "Low", "Close", "Volume"})


def _short(value: Any) -> str:
    """How an indicator argument reads in its default name (`SMA(C,10)`)."""
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, pd.DataFrame):
        return "df"
    name = getattr(value, "name", None)
    if isinstance(name, str) and name:
        return name[0] if name in _OHLCV else name
    if callable(value):
        return str(getattr(value, "__name__", type(value).__name__)).replace("<lambda>", "λ")
    return ""


def _as_lines(value: Any, n: int, name: str) -> np.ndarray:
    """An indicator's values as a float array of shape (n,) or (lines, n)."""
    if isinstance(value, pd.DataFrame):
        value = value.to_numpy().T
    elif isinstance(value, pd.Series):
        value = value.to_numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.asarray(value)
    if arr.ndim == 2 and arr.shape[0] == n and arr.shape[1] != n:
        arr = arr.T  # the user returned bars × lines (e.g. `df.values`)
    if arr.ndim not in (1, 2) or arr.shape[-1] != n:
        raise StrategyParamError(
            f"indicator {name!r}: returned shape {arr.shape}; an indicator must return "
            f"{n} values (one per bar) or several lines of {n} values"
        )
    return arr


class Strategy(NativeStrategy):
    """Subclass it, declare parameters as class attributes, override `init()` and `next()`."""

    # backtesting.py's growing columns; the native aligned arrays are on `self._aligned`.
    data: Data  # type: ignore[assignment]

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        clock: SimulatedClock,
        execution: ExecutionManager,
        positions: PositionMonitor,
        log: Any,
    ) -> None:
        super().__init__(params, clock=clock, execution=execution, positions=positions, log=log)
        for key, value in self.params.items():
            setattr(self, key, value)
        self._aligned = self.market.symbols[self.symbol]
        self.data = Data(ohlcv_columns(self._aligned), pd.DatetimeIndex(self.index))
        self._position = Position(self)
        self._indicator_attrs: list[tuple[str, Indicator]] | None = None

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Every run parameter must be a class attribute (backtesting.py's rule)."""
        for key in params:
            if key.startswith("_") or not hasattr(cls, key):
                public = [a for a in dir(cls) if not a.startswith("_")]
                close = difflib.get_close_matches(key, public)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise StrategyParamError(
                    f"strategy.params.{key}: {cls.__name__} has no parameter {key!r}{hint}; "
                    f"declare it as a class attribute (`{key} = <default>`) to run with it"
                )
        return params

    # -- the two methods a ported strategy overrides ---------------------------------
    def init(self) -> None:
        """Declare indicators with `self.I(...)`; the data columns have full length here."""

    def next(self) -> None:
        """React to the current bar: `self.data.Close[-1]` is its close."""

    def on_bar(self, i: int) -> None:
        n = i + 1
        self.data._set_length(n)
        attrs = self._indicator_attrs
        if attrs is None:
            attrs = self._indicator_attrs = self._indicators_on_attributes()
        for attr, full in attrs:
            setattr(self, attr, full[..., :n])
        # Comparisons with NaN (indicator warm-up) are False, not worth a warning.
        with np.errstate(invalid="ignore"):
            self.next()

    # -- indicators ---------------------------------------------------------------
    def I(  # noqa: E743, N802 - backtesting.py's name
        self,
        func: Callable[..., Any],
        *args: Any,
        name: Any = None,
        plot: bool = True,
        overlay: bool | None = None,
        color: Any = None,
        scatter: bool = False,
        **kwargs: Any,
    ) -> Indicator:
        """Compute `func(*args, **kwargs)` once over every bar; in `next()` it grows like the data.

        Declared through isoloop's indicator helper (read-only values, named in the
        report), so the first `next()` comes once every declared indicator has a
        value. `scatter=True` marks a signal (NaN where there is none): it does not
        delay the start and is not drawn. `color` is accepted and not used.
        """
        if name is None:
            shown = ",".join(s for s in map(_short, (*args, *kwargs.values())) if s)
            label: Any = f"{_short(func) or 'I'}({shown})" if shown else _short(func) or "I"
        elif isinstance(name, str):
            label = name
        else:
            label = [str(x) for x in name]
        try:
            raw = func(*args, **kwargs)
        except Exception as exc:
            exc.add_note(f"in indicator {label!r} declared with self.I(...)")
            raise
        values = _as_lines(raw, len(self.index), str(label))
        if isinstance(label, list) and np.atleast_2d(values).shape[0] != len(label):
            raise StrategyParamError(
                f"indicator {label!r}: {len(label)} names for "
                f"{np.atleast_2d(values).shape[0]} lines; give one name per line"
            )
        if overlay is None:
            # Drawn over the price when most values sit within ±40% of the close.
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = values / np.asarray(self._aligned.close)
                overlay = bool(((ratio > 0.6) & (ratio < 1.4)).mean() > 0.6)
        if scatter:
            frozen = np.array(values, dtype=np.float64)
            frozen.flags.writeable = False
        else:
            # The native helper: read-only values, named in the report, the run's warm-up.
            frozen = NativeStrategy.I(
                self, lambda: values, name=self._unique(label), overlay=overlay, plot=plot
            )
        return Indicator(
            frozen,
            name=label,
            index=self.data._index,
            plot=plot and not scatter,
            overlay=overlay,
            color=color,
            scatter=scatter,
        )

    def _unique(self, label: Any) -> Any:
        """backtesting.py allows two indicators of one name; the report needs distinct ones."""
        if not isinstance(label, str) or label not in self.indicators:
            return label
        k = 2
        while f"{label} #{k}" in self.indicators:
            k += 1
        return f"{label} #{k}"

    def _indicators_on_attributes(self) -> list[tuple[str, Indicator]]:
        return [(k, v) for k, v in vars(self).items() if isinstance(v, Indicator)]

    # -- account --------------------------------------------------------------------
    @property
    def position(self) -> Position:
        """backtesting.py's `Position`; calling it gives the native signed units."""
        return self._position

    def _units(self, symbol: str | None, venue: str | None, position_type: str) -> float:
        return NativeStrategy.position(self, symbol, venue, position_type)

    def _last_close(self) -> float:
        return self._aligned.close_l[self.clock.bar]

    @property
    def orders(self) -> tuple[Order, ...]:  # type: ignore[override]  # backtesting.py's shape
        """Orders still working (entries, closes, stop-loss and take-profit)."""
        return tuple(Order(self, v) for v in self.books.working_orders())

    def _close_portion(self, portion: float) -> None:
        NativeStrategy.close(self, portion=portion)

    # -- orders -----------------------------------------------------------------------
    def buy(  # type: ignore[override]
        self,
        *,
        size: float | None = None,
        limit: float | None = None,
        stop: float | None = None,
        sl: float | None = None,
        tp: float | None = None,
        tag: Any = None,
        **native: Any,
    ) -> Order:
        """A long order; `size`: a fraction of available margin (0–1) or whole units."""
        return self._place(NativeStrategy.buy, size, limit, stop, sl, tp, tag, native)

    def sell(  # type: ignore[override]
        self,
        *,
        size: float | None = None,
        limit: float | None = None,
        stop: float | None = None,
        sl: float | None = None,
        tp: float | None = None,
        tag: Any = None,
        **native: Any,
    ) -> Order:
        """A short order (or a sell that reduces a long one); `size` as in `buy`."""
        return self._place(NativeStrategy.sell, size, limit, stop, sl, tp, tag, native)

    def _place(
        self,
        send: Callable[..., OrderView],
        size: float | None,
        limit: float | None,
        stop: float | None,
        sl: float | None,
        tp: float | None,
        tag: Any,
        native: dict[str, Any],
    ) -> Order:
        if size is not None and not math.isnan(size) and size == ALL_EQUITY:
            size = None
        given = {"limit": limit, "stop": stop, "sl": sl, "tp": tp, "tag": tag}
        kw = {k: v for k, v in given.items() if v is not None}
        return Order(self, send(self, size, **kw, **native))
