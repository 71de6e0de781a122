"""Indicators declared once in `init()`: computed vectorized, frozen, named, and warm-up aware.

`self.I(func, *args, **kwargs)` calls `func` once over the whole series and
keeps the result as a read-only float array (one line, or several lines of
shape `(lines, bars)`), registered under a name the report shows. The run's
warm-up follows from the declared indicators: the first `on_bar` call comes
at bar `1 + w`, where `w` is, over every line of every indicator, the largest
index of a line's first value (a leading run of NaN is the indicator warming
up). An explicit `warmup` on the strategy still counts: the larger one wins.

The registry lives on the strategy instance (one per run), never on the class,
so two runs of one strategy class share nothing.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from isoloop.errors import StrategyParamError

if TYPE_CHECKING:
    from isoloop.engine.market import AlignedSymbol, MarketView

__all__ = [
    "NO_INDICATORS",
    "Indicator",
    "IndicatorMixin",
    "indicator_warmup",
    "seal_indicators",
]

#: What a strategy that declared nothing has: shared, empty and immutable.
NO_INDICATORS: Mapping[str, Indicator] = MappingProxyType({})

_REGISTRY = "_isoloop_indicators"
# Labels the data's own columns get in a default name: `SMA(C,10)` reads better than `SMA(,10)`.
_COLUMN_LABELS = (("open", "O"), ("high", "H"), ("low", "L"), ("close", "C"), ("volume", "V"))
# The overlay guess: an indicator drawn on the price chart when most of its values
# (more than this share) lie within this relative distance of the close at that bar.
_OVERLAY_SHARE = 0.6
_OVERLAY_DISTANCE = 0.4


@dataclass(frozen=True, slots=True, eq=False)
class Indicator:
    """One declared indicator.

    `values` is read-only float64: shape `(bars,)` for one line, `(lines, bars)` for
    several. `lines` labels each line (the name itself for a single line). `warmup`
    is the number of leading bars before every line has a value (all bars when some
    line never has one).
    """

    name: str
    values: np.ndarray
    lines: tuple[str, ...]
    overlay: bool
    plot: bool
    warmup: int

    @property
    def matrix(self) -> np.ndarray:
        """The values as `(lines, bars)`, also for a single line (a read-only view)."""
        return self.values if self.values.ndim == 2 else self.values[np.newaxis, :]


def _first_values(matrix: np.ndarray) -> int:
    """Bars before every line has its first value; all bars if a line is never set."""
    if matrix.shape[1] == 0:
        return 0
    missing = np.isnan(matrix)
    first = np.where(missing.all(axis=1), matrix.shape[1], missing.argmin(axis=1))
    return int(first.max())


def _overlay_guess(matrix: np.ndarray, close: np.ndarray) -> bool:
    """Price-like values (near the close) go on the price chart; others get a panel."""
    if matrix.size == 0:
        return False
    with np.errstate(divide="ignore", invalid="ignore"):
        near = np.abs(matrix / close - 1.0) < _OVERLAY_DISTANCE
    return bool(near.mean() > _OVERLAY_SHARE)


def indicator_warmup(indicators: Mapping[str, Indicator]) -> int:
    """The warm-up the declared indicators need (0 when none is declared)."""
    return max((ind.warmup for ind in indicators.values()), default=0)


def seal_indicators(strategy: object) -> Mapping[str, Indicator]:
    """The strategy's indicators, closed to new declarations (the bar loop is starting).

    Works on any strategy object, with or without `IndicatorMixin`.
    """
    attrs = getattr(strategy, "__dict__", None)
    if attrs is None:
        return NO_INDICATORS
    found = attrs.get(_REGISTRY)
    if isinstance(found, MappingProxyType):
        return found
    sealed: Mapping[str, Indicator] = MappingProxyType(found) if found else NO_INDICATORS
    attrs[_REGISTRY] = sealed
    return sealed


class IndicatorMixin:
    """`self.I(...)` for a `Strategy`: declare an indicator once, in `init()`."""

    # Provided by `Strategy`; declared here so the mixin type-checks on its own.
    warmup: int
    data: AlignedSymbol
    market: MarketView
    index: np.ndarray

    def I(  # noqa: E743, N802 - the one-letter name users of backtesting.py know
        self,
        func: Callable[..., Any],
        *args: Any,
        name: str | Sequence[str] | None = None,
        overlay: bool | None = None,
        plot: bool = True,
        **kwargs: Any,
    ) -> np.ndarray:
        """Compute `func(*args, **kwargs)` once over all bars; return it read-only.

        The result may be one line (an array or Series of one value per bar) or
        several (a 2-D array of `(lines, bars)` or `(bars, lines)`, a tuple of
        arrays, a DataFrame with a column per line). It is registered under `name`
        — by default the function's name and arguments, e.g. `sma(C,10)`; a
        sequence of names labels each line. `overlay` draws it on the price chart
        (default: when most values lie near the close); `plot=False` keeps it out
        of the report. Leading NaN values are its warm-up: the first `on_bar`
        comes after every declared indicator has a value.
        """
        registry = vars(self).get(_REGISTRY)
        if isinstance(registry, MappingProxyType):
            raise StrategyParamError(
                f"indicator {self._default_name(func, args, kwargs)!r}: declared after the "
                "bar loop started; declare indicators with self.I(...) in init()"
            )
        line_names: tuple[str, ...] | None = None
        if name is None:
            label = self._default_name(func, args, kwargs)
        elif isinstance(name, str):
            label = name
        elif isinstance(name, Sequence) and name and all(isinstance(x, str) for x in name):
            line_names = tuple(name)
            label = ", ".join(line_names)
        else:
            raise StrategyParamError(
                f"self.I({self._default_name(func, args, kwargs)}): name= must be a string or "
                f"a non-empty sequence of strings (one per line), got {name!r}"
            )
        try:
            raw = func(*args, **kwargs)
        except Exception as exc:
            exc.add_note(f"while computing indicator {label!r} in init()")
            raise
        matrix, columns, one_line = self._as_matrix(raw, label)
        lines = self._line_labels(label, matrix.shape[0], line_names, columns)
        if registry is None:
            registry = {}
            vars(self)[_REGISTRY] = registry
        if label in registry:
            if name is not None:
                raise StrategyParamError(
                    f"indicator {label!r}: this name is already declared; give each "
                    "indicator its own name= (names label the report's series)"
                )
            label = next(
                c for c in (f"{label} #{k}" for k in itertools.count(2)) if c not in registry
            )
            if line_names is None and matrix.shape[0] == 1:
                lines = (label,)
        matrix.flags.writeable = False
        # The shape the function gave: one line stays 1-D, several are (lines, bars).
        values = matrix[0] if one_line else matrix
        if overlay is None:
            overlay = _overlay_guess(matrix, self.data.close)
        indicator = Indicator(
            name=label,
            values=values,
            lines=lines,
            overlay=bool(overlay),
            plot=bool(plot),
            warmup=_first_values(matrix),
        )
        registry[label] = indicator
        # The instance's warm-up (what the driver, the live runner and the stats read).
        self.warmup = max(int(self.warmup), indicator.warmup)
        return values

    @property
    def indicators(self) -> Mapping[str, Indicator]:
        """The indicators declared so far, by name, in declaration order (read-only)."""
        found = vars(self).get(_REGISTRY)
        return NO_INDICATORS if not found else MappingProxyType(found)

    # -- helpers ---------------------------------------------------------------------
    def _bars(self) -> int:
        return len(self.index)

    def _as_matrix(
        self, raw: object, label: str
    ) -> tuple[np.ndarray, tuple[str, ...] | None, bool]:
        """`(lines, bars)` float64 (a fresh copy nothing else aliases), column names, 1-D?"""
        n = self._bars()
        columns: tuple[str, ...] | None = None
        if isinstance(raw, pd.DataFrame):
            columns = tuple(str(c) for c in raw.columns)
            raw = raw.to_numpy().T
        elif isinstance(raw, pd.Series):
            raw = raw.to_numpy()
        try:
            matrix = np.array(raw, dtype=np.float64, copy=True, order="C")
        except (TypeError, ValueError):
            raise StrategyParamError(
                f"indicator {label!r}: returned {type(raw).__name__} that is not numbers "
                f"(one value per bar, {n} bars); return a float array, Series or DataFrame"
            ) from None
        shape = matrix.shape if columns is None else matrix.shape[::-1]  # as returned
        if matrix.ndim == 2 and matrix.shape[1] != n and matrix.shape[0] == n:
            matrix = np.ascontiguousarray(matrix.T)  # (bars, lines), e.g. np.column_stack
        one_line = matrix.ndim == 1
        if one_line:
            matrix = matrix[np.newaxis, :]
        if matrix.ndim != 2 or matrix.shape[1] != n or matrix.shape[0] == 0:
            raise StrategyParamError(
                f"indicator {label!r}: returned shape {shape}, expected one value "
                f"per bar ({n} bars): shape ({n},) or (lines, {n})"
            )
        return matrix, columns, one_line

    @staticmethod
    def _line_labels(
        label: str, count: int, given: tuple[str, ...] | None, columns: tuple[str, ...] | None
    ) -> tuple[str, ...]:
        if given is not None:
            if len(given) != count:
                raise StrategyParamError(
                    f"indicator {label!r}: name= gives {len(given)} line names but the "
                    f"indicator has {count} lines; give one name per line"
                )
            return given
        if count == 1:
            return (label,)
        parts = columns if columns is not None else tuple(str(k) for k in range(count))
        return tuple(f"{label}[{p}]" for p in parts)

    def _default_name(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> str:
        params = ",".join(p for p in map(self._arg_label, (*args, *kwargs.values())) if p)
        fname = getattr(func, "__name__", type(func).__name__).replace("<lambda>", "λ")
        return f"{fname}({params})" if params else fname

    def _arg_label(self, value: object) -> str:
        if isinstance(value, bool | numbers.Number | str):
            return str(value)
        market = getattr(self, "market", None)
        symbols = getattr(market, "symbols", {}) if market is not None else {}
        primary = getattr(market, "primary", None)
        for symbol, data in symbols.items():
            named = [(short, getattr(data, attr, None)) for attr, short in _COLUMN_LABELS]
            named += list(getattr(data, "extra", {}).items())  # extra data columns: `PE`
            for short, column in named:
                if value is column:
                    return short if symbol == primary else f"{symbol}.{short}"
        if isinstance(value, pd.DataFrame):
            return "df"
        if isinstance(value, pd.Series) and value.name is not None:
            return str(value.name)
        if callable(value):
            return str(getattr(value, "__name__", type(value).__name__)).replace("<lambda>", "λ")
        return ""
