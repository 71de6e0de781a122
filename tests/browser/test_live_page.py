"""The live operator page in real headless Chromium, against a real running manager."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from isoloop.config.models import DataConfig
from isoloop.data import load_market_data
from isoloop.live import LiveTradingManager
from support.browser import render, requires_chromium
from support.live_helpers import live_config, rows, state_of, strategy, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.live]

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "live-page.png"


def _page(url: str, *, screenshot: Path | None = None) -> tuple[str, list[str]]:
    """The DOM after the page's scripts ran, and its console errors (and a screenshot)."""
    shown = render(url, screenshot=screenshot, window=(1400, 1650))
    return shown.dom, shown.console_errors


def _card(dom: str, name: str) -> str:
    start = dom.index(f'data-name="{name}"')
    end = dom.find("<article", start)
    return dom[start : end if end > 0 else len(dom)]


def _money(v: float) -> str:
    return f"{v:,.2f}"


@requires_chromium
def test_live_page_shows_each_strategy_from_a_running_manager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_hex(16)
    monkeypatch.setenv("H3_PAGE_TOKEN", token)
    flaky = strategy(
        "flaky", "support.live_strategies:RaiseEveryTenth", {"fast": 5, "slow": 20, "from_bar": 250}
    )
    slow = strategy("slow", params={"fast": 10, "slow": 40})
    cfg = live_config(
        tmp_path,
        [strategy("fast", "support.live_page_strategies:SmaWithRestingBid"), slow, flaky],
        bars=300,
        api={"enabled": True, "port": 0, "token_env": "H3_PAGE_TOKEN"},
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.wait_settled(120)
        m.trip("HALTED", "page test", strategy="slow")
        assert m.api is not None
        url = m.api.url
        # Without the token in the fragment, the page asks for it and shows no data.
        dom, errors = _page(f"{url}/ui")
        assert errors == [], errors
        assert '<form id="login">' in dom and "data-name=" not in dom
        # A wrong token is refused by the API, and the page says so.
        dom, errors = _page(f"{url}/ui#token={token[::-1]}")
        assert "token refused" in dom and "data-name=" not in dom
        # The data endpoints themselves need the token, the page does not carry any.
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{url}/state", timeout=10)
        assert info.value.code == 401
        with urllib.request.urlopen(f"{url}/ui", timeout=10) as resp:
            html = resp.read().decode()
            csp = resp.headers["Content-Security-Policy"]
        assert token not in html and "default-src 'none'" in csp
        assert "http://" not in html and "https://" not in html  # no CDN, nothing external

        shot = tmp_path / "live-page.png"
        dom, errors = _page(f"{url}/ui#token={token}", screenshot=shot)
        wait_for(lambda: state_of(m, "flaky")["state"] == "failed", what="flaky to give up")
    assert errors == [], errors
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if os.environ.get("ISOLOOP_UPDATE_DOCS_SCREENSHOTS") == "1":  # refresh docs/img on demand
        shutil.copyfile(shot, DOCS_SHOT)

    assert 'class="badge ok">live<' in dom
    summary = dom[dom.index('id="summary"') : dom.index('id="strategies"')]
    assert "PAPER_TRADING" in summary and ">paper<" in summary
    closes = load_market_data([DataConfig(source="sample:EURUSD")], None)[0].primary.close
    for name in ("fast", "slow", "flaky"):
        card = _card(dom, name)
        for panel in ("panel-account", "panel-positions", "panel-orders", "panel-fills"):
            assert f'class="{"metrics " if panel == "panel-account" else "panel "}{panel}"' in card
        assert 'class="panel panel-errors"' in card
        # Equity and P&L as the store and the data say: cash + position x close of the last
        # bar processed, minus the starting cash.
        stored = rows(tmp_path, name)
        last = int(re.search(r'<span class="k">bar</span><span class="v">(\d+)<', card)[1])  # type: ignore[index]
        equity = stored["cash"] + sum(q * closes[last] for q in stored["positions"].values())
        assert f">{_money(equity)}<" in card, (name, equity)
        assert f">{_money(equity - 100000.0)}<" in card
        assert f"Recent fills ({len(stored['fills'])} in all)" in card
        assert len(stored["fills"]) > 0
        for pos_key, qty in stored["positions"].items():
            if qty:
                assert f"<td>{pos_key}</td>" in card
    # The resting bid of `fast` is its one open order, as the store holds it.
    working = [o for o in rows(tmp_path, "fast")["orders"] if o["status"] == "ACCEPTED"]
    assert len(working) == 1 and working[0]["limit"] is not None
    orders = _card(dom, "fast").split('class="panel panel-orders"')[1].split("</section>")[0]
    assert f"<td>{working[0]['id']}</td>" in orders and "LIMIT" in orders
    assert "no working order" in _card(dom, "slow")
    assert "kill switch HALTED" in _card(dom, "slow")
    assert "kill switch ACTIVE" in _card(dom, "fast")
    flaky_card = _card(dom, "flaky")
    assert "model blew up at bar 250" in flaky_card
    assert np.isfinite(closes[-1])
