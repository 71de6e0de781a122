"""Sweep and walk-forward reports in real headless Chromium: no console errors, every
panel drawn, the heatmap's pair picker and the table's filter work, screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from isoloop.sweep.loading import load_sweep
from isoloop.sweep.outputs import write_sweep_outputs
from isoloop.sweep.run import run_sweep
from support.browser import render, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium]

BASE: dict[str, Any] = {
    "strategy": {"class": "isoloop.examples.sma_cross:SmaCross", "params": {}},
    "data": {"source": "sample:GOOG"},
    "venue": {"cash": 10_000, "commission": 0.0},
}
PARETO_SWEEP: dict[str, Any] = {
    "kind": "sweep",
    "base": BASE,
    "space": {"fast": [5, 10, 20], "slow": [30, 50, 70], "venue.commission": [0.0, 0.002]},
    "objectives": [
        {"key": "return_pct", "direction": "maximize"},
        {"key": "max_drawdown_pct", "direction": "maximize"},
    ],
    "executor": {"kind": "serial"},
}
WF_SWEEP: dict[str, Any] = {
    "kind": "sweep",
    "base": BASE,
    "space": {"fast": [5, 10], "slow": [30, 60]},
    "objective": {"metric": "sharpe_ratio"},
    "executor": {"kind": "serial"},
    "walk_forward": {"mode": "rolling", "train_bars": 600, "test_bars": 300},
}
PANELS = ("best-equity", "history", "importances", "parallel", "distribution", "robustness")


def report_of(cfg: dict[str, Any], out: Path) -> Path:
    return write_sweep_outputs(run_sweep(cfg), load_sweep(cfg), out)


def section(dom: str, name: str) -> str:
    start = dom.index(f'<section id="{name}"')
    return dom[start : dom.index("</section>", start)]


def with_script(page: Path, script: str) -> Path:
    """A copy of `page` that runs `script` after the page's own (a user's clicks)."""
    copy = page.with_name(f"acted-{page.name}")
    copy.write_text(page.read_text().replace("</body>", f"<script>{script}</script></body>"))
    return copy


@pytest.fixture(scope="module")
def pareto_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return report_of(PARETO_SWEEP, tmp_path_factory.mktemp("pareto"))


def test_sweep_report_draws_every_panel_without_console_errors(
    pareto_page: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "report-sweep.png"
    rendered = render(pareto_page, screenshot=shot, window=(1400, 5200))
    assert rendered.console_errors == []
    for name in (*PANELS, "pareto"):
        assert 'class="main-svg"' in section(rendered.dom, name), name
    heatmap = section(rendered.dom, "heatmap")
    assert 'data-pair="fast|slow"' in heatmap
    ticks = re.findall(r'class="xtick"><text[^>]*>([^<]+)<', heatmap)
    assert ticks == ["5", "10", "20"]
    assert "max of return_pct by fast and slow (other parameters: max)" in heatmap
    # 18 trials, paged table built by the page's script; the Pareto table lists the front.
    assert re.search(r'id="trials-count"[^>]*>18 of 18 trials, page 1 of 1<', rendered.dom)
    assert rendered.dom.count("<tr><td>") >= 18
    assert shot.stat().st_size > 50_000


def test_pair_picker_redraws_the_heatmap_and_filters_narrow_the_table(
    pareto_page: Path,
) -> None:
    # The pair starts as (fast, slow): see the test above.
    acted = with_script(
        pareto_page,
        "var x = document.getElementById('heatmap-x'); x.value = '2';"
        "x.dispatchEvent(new Event('change'));"
        "var f = document.querySelector('input[data-col=\"fast\"]'); f.value = '10';"
        "f.dispatchEvent(new Event('input'));",
    )
    after = render(acted)
    assert after.console_errors == []
    heatmap = section(after.dom, "heatmap")
    assert 'data-pair="venue.commission|slow"' in heatmap
    ticks = re.findall(r'class="xtick"><text[^>]*>([^<]+)<', heatmap)
    assert ticks == ["0", "0.002"]
    assert "max of return_pct by venue.commission and slow" in heatmap
    assert re.search(r'id="trials-count"[^>]*>6 of 18 trials', after.dom)


def test_walk_forward_report_shows_windows_and_the_stitched_curve(tmp_path: Path) -> None:
    page = report_of(WF_SWEEP, tmp_path / "wf")
    shot = tmp_path / "report-walkforward.png"
    rendered = render(page, screenshot=shot, window=(1400, 2400))
    assert rendered.console_errors == []
    assert "No successful trial" not in rendered.dom
    assert "20 trials (ok: 20)" in rendered.dom and "20 ok train trials" in rendered.dom
    for name in ("oos-equity", "train-test"):
        assert 'class="main-svg"' in section(rendered.dom, name), name
    windows = section(rendered.dom, "windows")
    assert windows.count("<tr><td>") == 5
    assert shot.stat().st_size > 50_000
