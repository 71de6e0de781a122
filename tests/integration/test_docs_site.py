"""The documentation site builds from docs/ with no warnings, its API reference from the code.

`make docs-site` and CI run `mkdocs build --strict`; these tests run the same build into
a temporary folder, so a broken link, a missing anchor, a page left out of the nav or a
docstring mkdocstrings cannot render fails here, with the warning in the message.
"""

from __future__ import annotations

import html
import inspect
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from isoloop.engine.strategy import Strategy
from isoloop.notebook import Backtest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"

pytestmark = pytest.mark.xdist_group("docs_site")


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )


def first_line(obj: object) -> str:
    doc = inspect.getdoc(obj)
    assert doc, obj
    return doc.splitlines()[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = build(REPO / "mkdocs.yml", out)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING" not in output, output
    return out


def test_every_docs_page_is_built(site: Path) -> None:
    pages = sorted(p.relative_to(DOCS) for p in DOCS.rglob("*.md"))
    assert Path("index.md") in pages and Path("api/strategy.md") in pages
    # mkdocs' directory URLs: docs/a/b.md -> a/b/index.html, docs/a/index.md -> a/index.html
    built = [
        site / (p.parent if p.name == "index.md" else p.with_suffix("")) / "index.html"
        for p in pages
    ]
    assert [
        str(p) for p, html_file in zip(pages, built, strict=True) if not html_file.is_file()
    ] == []


def test_the_api_reference_is_generated_from_the_docstrings(site: Path) -> None:
    strategy = (site / "api" / "strategy" / "index.html").read_text(encoding="utf-8")
    notebook = (site / "api" / "notebook" / "index.html").read_text(encoding="utf-8")
    # Anchors for the classes and methods a user looks up, and their docstrings' words.
    for anchor in (
        "isoloop.engine.strategy.Strategy",
        "isoloop.engine.strategy.Strategy.I",
        "isoloop.engine.strategy.Strategy.buy",
        "isoloop.engine.books.OrderView",
        "isoloop.engine.tradeview.TradeView",
        "isoloop.engine.books.BookView",
    ):
        assert f'id="{anchor}"' in strategy, anchor
    assert 'id="isoloop.notebook.Backtest.optimize"' in notebook
    for obj, page in (
        (Strategy.on_bar, strategy),
        (Backtest.run, notebook),
        (Backtest.optimize, notebook),
    ):
        words = html.escape(first_line(obj).split("`")[0].strip(), quote=False)
        assert words in page, words


def test_a_broken_link_or_a_page_missing_from_the_nav_fails_the_build(tmp_path: Path) -> None:
    # The gate itself: the same config over a copy of docs/ with two mistakes added.
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(DOCS, tmp_path / "docs")
    (tmp_path / "src").symlink_to(REPO / "src")
    index = tmp_path / "docs" / "index.md"
    index.write_text(
        index.read_text(encoding="utf-8") + "\nSee [nowhere](quickstart.md#no-such-section).\n",
        encoding="utf-8",
    )
    (tmp_path / "docs" / "orphan.md").write_text("# Orphan\n", encoding="utf-8")

    done = build(tmp_path / "mkdocs.yml", tmp_path / "site")

    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "no-such-section" in output
    assert "orphan.md" in output
