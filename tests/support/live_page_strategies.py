"""A strategy for the live operator page's test: SmaCross that also keeps a resting limit
order working (far below the market, so it never fills), to fill the open-orders panel."""

from __future__ import annotations

from isoloop.examples.sma_cross import SmaCross


class SmaWithRestingBid(SmaCross):
    def on_bar(self, i: int) -> None:
        if i == 30:
            self.buy(1000, limit=round(self.data.close_l[i] * 0.5, 5))
        super().on_bar(i)
