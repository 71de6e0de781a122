"""docs/results.md documents every stats key, its backtesting.py label and every trades column."""

from __future__ import annotations

import re
from pathlib import Path

from isoloop.results import BACKTESTING_STATS_LABELS, BACKTESTING_TRADE_COLUMNS, STATS_KEYS

DOC = Path(__file__).resolve().parents[3] / "docs" / "results.md"


def table_rows(text: str, heading: str) -> dict[str, list[str]]:
    """First-column keys (in backticks) of the table under `heading` -> the row's cells."""
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        for key in re.findall(r"`([a-z_]+)`", cells[0]) if line.startswith("|") else []:
            rows[key] = cells
    return rows


def test_every_stats_key_is_documented_with_its_backtesting_py_label() -> None:
    rows = table_rows(DOC.read_text(encoding="utf-8"), "## Stats")
    assert list(rows) == list(STATS_KEYS)
    for label, key in BACKTESTING_STATS_LABELS:
        if key in rows:
            assert rows[key][-1] == label, key


def test_every_trades_column_the_labels_use_is_documented() -> None:
    rows = table_rows(DOC.read_text(encoding="utf-8"), "## Trades")
    assert {key for _, key in BACKTESTING_TRADE_COLUMNS} <= set(rows)
