"""Every test the docs cite as evidence (``tests/x.py::test_name``) exists, so moved tests leave no dead references."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["docs/conventions.md", "README.md"]


def cited_tests(text: str) -> list[tuple[str, str]]:
    """``(file, test)`` for each ``tests/…py::name`` and each following ``::name`` on the same line."""
    cited = []
    for line in text.splitlines():
        current = None
        for m in re.finditer(r"`(tests/[\w/]+\.py)?::(\w+)`", line):
            current = m.group(1) or current
            if current is not None:
                cited.append((current, m.group(2)))
    return cited


def test_the_citation_finder_reads_shorthand():
    line = "see `tests/a.py::test_x`, `::test_y` and `tests/b.py::test_z`"
    assert cited_tests(line) == [("tests/a.py", "test_x"), ("tests/a.py", "test_y"), ("tests/b.py", "test_z")]


@pytest.mark.parametrize("doc", DOCS)
def test_cited_tests_exist(doc):
    cited = cited_tests((ROOT / doc).read_text())
    assert cited or doc == "README.md"
    missing = [
        f"{path}::{name}"
        for path, name in cited
        if not (ROOT / path).is_file() or f"def {name}(" not in (ROOT / path).read_text()
    ]
    assert missing == []
