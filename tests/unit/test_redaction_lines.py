"""The line index (safety/lines.py) answers as str.find and str.rfind do, on short lines and on lines
longer than its near search, and redaction of one long line finds what it finds on short ones."""

from __future__ import annotations

import random

import pytest

from level5.safety.lines import NEAR, LineIndex, line_index
from level5.safety.redaction import Redactor


def _texts() -> list[str]:
    rng = random.Random(8)  # fixed: the same texts on every run
    pieces = [rng.choice("ab\n") if rng.random() < 0.5 else "x" * rng.randrange(2 * NEAR) for _ in range(40)]
    long_line = "x" * (3 * NEAR + 17)
    return [
        "",
        "\n",
        "\n\n",
        "one line",
        "a\nb\n",
        "no newline at the end\nlast",
        f"{long_line}",
        f"{long_line}\n{long_line}",
        f"\n{long_line}\nshort\n\n{long_line}\n",
        "".join(pieces),
    ]


@pytest.mark.parametrize("text", _texts())
def test_line_end_is_the_next_newline_or_the_text_end(text: str) -> None:
    index = LineIndex(text)
    for pos in range(len(text) + 2):
        found = text.find("\n", pos)
        assert index.end(pos) == (len(text) if found == -1 else found), pos


@pytest.mark.parametrize("text", _texts())
def test_line_start_is_just_after_the_previous_newline(text: str) -> None:
    index = LineIndex(text)
    for pos in range(len(text) + 2):
        assert index.start(pos) == text.rfind("\n", 0, pos) + 1, pos


def test_the_index_is_kept_for_the_same_text_and_made_again_for_another() -> None:
    text = "a\n" + "b" * 10
    assert line_index(text) is line_index(text)
    other = "c" * 10 + "\n"
    assert line_index(other) is not line_index(text)
    assert line_index(other).end(0) == 10


def test_one_long_line_is_redacted_as_its_lines_are() -> None:
    """The same records, one per line and then joined by spaces on one line longer than the near search:
    every value is found either way."""
    records = [f'{{Name:"Anna Kowalczyk" Email:"user{i}@example.com" id:{i}}}' for i in range(3 * NEAR // 40)]
    redactor = Redactor(b"test")
    by_lines = redactor.redact("\n".join(records))
    one_line = redactor.redact(" ".join(records))
    assert len(" ".join(records)) > 2 * NEAR
    assert one_line.counts == by_lines.counts
    assert one_line.counts.get("EMAIL") == len(records)
    assert "@example.com" not in one_line.text
