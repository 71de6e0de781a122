"""Pre-trade risk checks, size throttling, an order rate limit and the kill switch.

`pre_trade(order)` returns `None` (go) or the reason for a denial, and may
shrink the order (throttling). With nothing configured it only checks the
order's parameters, so the common path costs a few attribute reads.
Kill switch: ACTIVE trades normally, HALTED denies every new order (cancels
still pass: they never come here), REDUCING accepts only orders that reduce
exposure. Every state change is appended to `audit_log` and logged with a
reason code (`KillSwitchReason`) and an optional free-text note.
"""

from __future__ import annotations

import math
from datetime import time
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from isoloop.config.models import RiskConfig
from isoloop.engine.clock import SimulatedClock
from isoloop.engine.health import Health, health
from isoloop.engine.positions import PositionMonitor
from isoloop.model.orders import Order, OrderType

if TYPE_CHECKING:
    from isoloop.config.models import RunConfig

__all__ = ["KillSwitchReason", "KillSwitchState", "RiskManager", "kill_switch_reason"]

KillSwitchState = Literal["ACTIVE", "HALTED", "REDUCING"]


class KillSwitchReason(StrEnum):
    """Why the kill switch changed state: a code hooks and dashboards can act on."""

    OPERATOR = "operator"  # a person, through the CLI, the control API or Python
    DAILY_LOSS_LIMIT = "daily_loss_limit"  # risk.daily_loss_limit reached: REDUCING
    CONFIG = "config"  # the initial state from risk.kill_switch
    RESTORED = "restored"  # a durable operator trip re-applied when a container starts
    # The books and a real venue's account disagree and retries did not explain it.
    RECONCILIATION = "reconciliation"
    RESET = "reset"  # back to ACTIVE


def kill_switch_reason(state: str, by: str) -> KillSwitchReason:
    """The code of a trip given only as free text, from who made it (`by`)."""
    if state == "ACTIVE":
        return KillSwitchReason.RESET
    if by == "config":
        return KillSwitchReason.CONFIG
    if by == "manager":
        return KillSwitchReason.RESTORED
    if by == "risk":
        return KillSwitchReason.DAILY_LOSS_LIMIT
    if by == "engine":
        return KillSwitchReason.RECONCILIATION
    return KillSwitchReason.OPERATOR


_NS_PER_DAY = 86_400_000_000_000
_VOL_WINDOW = 20


class RiskManager:
    def __init__(
        self,
        positions: PositionMonitor,
        clock: SimulatedClock,
        log: Any,
        settings: RiskConfig | None = None,
        config: RunConfig | None = None,
    ) -> None:
        if settings is None:
            settings = config.risk if config is not None else RiskConfig()
        self.settings = settings
        self._positions = positions
        self._clock = clock
        self._log = log
        self._spread_bps = (config.venue.spread * 1e4) if config is not None else 0.0
        self.state: KillSwitchState = "ACTIVE"
        self.audit_log: list[dict[str, Any]] = []
        self.denials: dict[str, int] = {}
        self._rate_bar = -1
        self._rate_count = 0
        self._day = -1
        self._day_start_equity = 0.0
        self._vol: dict[str, np.ndarray] = {}
        s = settings
        self._fast = (
            s.max_position is None
            and s.max_order_size is None
            and s.daily_loss_limit is None
            and s.max_concentration is None
            and s.trading_hours is None
            and s.max_volume_participation is None
            and s.max_spread_bps is None
            and s.max_volatility is None
            and s.max_orders_per_bar is None
        )
        if s.kill_switch != "ACTIVE":
            self.trip(
                s.kill_switch,
                KillSwitchReason.CONFIG,
                by="config",
                note="initial state from config risk.kill_switch",
            )

    # -- kill switch ---------------------------------------------------------------
    def trip(
        self,
        state: KillSwitchState,
        reason: KillSwitchReason | str = KillSwitchReason.OPERATOR,
        by: str = "operator",
        *,
        note: str | None = None,
    ) -> None:
        """Change the kill switch; `reason` is a code, or free text kept as the note (its
        code then follows from `by`, so callers written before the codes keep working)."""
        if isinstance(reason, KillSwitchReason):
            code = reason
        else:
            code = kill_switch_reason(state, by)
            note = reason if note is None else f"{reason}; {note}"
        entry = {
            "bar": self._clock.bar,
            "time": self._clock.now(),
            "from": self.state,
            "to": state,
            "reason": code.value,
            "note": note,
            "by": by,
        }
        self.audit_log.append(entry)
        self.state = state
        self._log.warning("kill_switch", code="RISK-001", **entry)

    def reset(self, reason: str | None = None, by: str = "operator") -> None:
        self.trip("ACTIVE", KillSwitchReason.RESET, by, note=reason)

    # -- checks ----------------------------------------------------------------------
    def pre_trade(self, order: Order) -> str | None:
        reason = self._parameters(order)
        if reason is None and (not self._fast or self.state != "ACTIVE"):
            reason = self._full(order)
        if reason is not None:
            self.denials[reason.split(":")[0]] = self.denials.get(reason.split(":")[0], 0) + 1
        return reason

    @staticmethod
    def _parameters(order: Order) -> str | None:
        frac = order.equity_fraction
        if frac is None:
            if not (order.size > 0 and math.isfinite(order.size)):
                return f"parameters: size must be a positive finite number, got {order.size!r}"
        elif not (0 < frac <= 1):
            return f"parameters: equity_fraction must be in (0, 1], got {frac!r}"
        t = order.type
        if t is OrderType.MARKET:
            if order.limit is not None or order.stop is not None:
                return "parameters: a MARKET order must not carry limit or stop prices"
            return None
        if t in (OrderType.LIMIT, OrderType.STOP_LIMIT) and not _positive(order.limit):
            return f"parameters: {t.value} order needs a positive limit price"
        if t in (OrderType.STOP, OrderType.STOP_LIMIT) and not _positive(order.stop):
            return f"parameters: {t.value} order needs a positive stop price"
        return None

    def _key(self, order: Order) -> str:
        return f"{order.venue}:{order.position_type}:{order.symbol}"

    def _full(self, order: Order) -> str | None:
        s = self.settings
        bar = max(self._clock.bar, 0)
        market = self._clock.market
        sym = market.symbols.get(order.symbol)
        if sym is None:
            return None  # the venue rejects unknown symbols with a precise reason
        price = sym.close_l[bar]
        pos = self._positions.position(self._key(order))
        sign = order.sign
        equity = self._positions.equity(bar)
        units = (
            order.size
            if order.equity_fraction is None
            else (
                math.floor(max(equity, 0.0) * order.equity_fraction / price) if price > 0 else 0.0
            )
        )
        reducing = order.reduce_only or (pos * sign < 0 and units <= abs(pos))

        if self.state == "HALTED":
            return "kill_switch: trading is HALTED; only cancels pass"
        if self.state == "REDUCING" and not reducing:
            return "kill_switch: REDUCING accepts only orders that reduce exposure"

        if s.max_orders_per_bar is not None:
            if self._rate_bar != bar:
                self._rate_bar, self._rate_count = bar, 0
            if self._rate_count >= s.max_orders_per_bar:
                return f"rate_limit: more than {s.max_orders_per_bar} orders in bar {bar}"
            self._rate_count += 1

        if s.trading_hours is not None:
            start, end = s.trading_hours
            ns = market.time_ns[bar] % _NS_PER_DAY
            secs = ns // 1_000_000_000
            tod = time(secs // 3600, (secs // 60) % 60, secs % 60)
            inside = start <= tod <= end if start <= end else (tod >= start or tod <= end)
            if not inside:
                return f"trading_hours: bar time {tod} is outside {start}-{end}"

        if s.daily_loss_limit is not None:
            day = market.days[bar]
            if day != self._day:
                self._day = day
                self._day_start_equity = self._positions.equity(max(bar - 1, 0))
            loss = self._day_start_equity - equity
            if loss >= s.daily_loss_limit:
                if self.state == "ACTIVE":
                    self.trip(
                        "REDUCING",
                        KillSwitchReason.DAILY_LOSS_LIMIT,
                        by="risk",
                        note=f"daily loss {loss:.2f} >= limit {s.daily_loss_limit}",
                    )
                if not reducing:
                    return f"daily_loss_limit: loss today {loss:.2f} >= {s.daily_loss_limit}"

        # Throttling shrinks the order before the hard limits look at it.
        throttled = float(units)
        if s.max_volume_participation is not None:
            cap = math.floor(s.max_volume_participation * sym.volume_l[bar])
            throttled = min(throttled, float(cap))
        if s.max_spread_bps is not None and self._spread_bps > s.max_spread_bps:
            throttled = float(math.floor(throttled * s.max_spread_bps / self._spread_bps))
        if s.max_volatility is not None:
            vol = self._volatility(order.symbol)[bar]
            if math.isfinite(vol) and vol > s.max_volatility:
                throttled = float(math.floor(throttled * s.max_volatility / vol))
        if throttled != units:
            if throttled <= 0:
                return "throttle: size throttled to zero (volume, spread or volatility)"
            self._log.info("order_throttled", order_id=order.id, from_size=units, to_size=throttled)
            order.size = float(throttled)
            order.equity_fraction = None
            units = throttled

        if s.max_order_size is not None and units > s.max_order_size:
            return f"max_order_size: {units:g} units > {s.max_order_size:g}"
        after = pos + sign * units
        if s.max_position is not None and abs(after) > s.max_position and not reducing:
            return f"max_position: |{after:g}| units > {s.max_position:g}"
        if s.max_concentration is not None and not reducing and equity > 0:
            share = abs(after) * price / equity
            if share > s.max_concentration:
                return f"concentration: {share:.1%} of equity > {s.max_concentration:.1%}"
        return None

    def _volatility(self, symbol: str) -> np.ndarray:
        vol = self._vol.get(symbol)
        if vol is None:
            close = self._clock.market.symbols[symbol].close
            rets = np.diff(np.log(close), prepend=np.nan)
            win = np.lib.stride_tricks.sliding_window_view(rets, _VOL_WINDOW)
            vol = np.full(len(close), np.nan)
            if len(win):
                vol[_VOL_WINDOW - 1 :] = np.std(win, axis=1, ddof=1)
            self._vol[symbol] = vol
        return vol

    def health(self) -> Health:
        return health(
            "healthy" if self.state == "ACTIVE" else "degraded",
            kill_switch=self.state,
            denials=dict(sorted(self.denials.items())),
            trips=len(self.audit_log),
        )


def _positive(price: float | None) -> bool:
    return price is not None and price > 0 and math.isfinite(price)
