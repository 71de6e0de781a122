"""docs/errors.md's table of codes says what the registry says, both ways."""

from __future__ import annotations

import re
from pathlib import Path

from isoloop.errors import ERROR_CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
ROW = re.compile(r"^\| ([A-Z]+-\d{3}) \| (\w+) \| ([^|]+) \|", re.MULTILINE)


def documented() -> dict[str, tuple[str, str]]:
    rows = ROW.findall(DOC.read_text(encoding="utf-8"))
    table = {code: (severity, title.strip()) for code, severity, title in rows}
    assert len(table) == len(rows), "a code appears twice in docs/errors.md"
    return table


def test_every_registered_code_is_in_the_docs_table_with_its_severity_and_title() -> None:
    table = documented()
    missing = sorted(set(ERROR_CODES) - set(table))
    assert missing == [], f"add these codes to docs/errors.md: {missing}"
    for code, spec in ERROR_CODES.items():
        assert table[code] == (spec.severity.value, spec.title), code


def test_every_code_in_the_docs_table_is_registered() -> None:
    unknown = sorted(set(documented()) - set(ERROR_CODES))
    assert unknown == [], f"docs/errors.md lists codes the registry does not have: {unknown}"


def test_the_policy_table_names_each_severity_once_most_severe_first() -> None:
    # The policy table above the codes names each severity once, most severe first.
    text = DOC.read_text(encoding="utf-8")
    policy = re.findall(r"^\| (CRITICAL|HIGH|MEDIUM|LOW) \|", text, re.MULTILINE)
    assert policy == ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
