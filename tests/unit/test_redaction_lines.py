"""The line index (safety/lines.py) answers as str.find and str.rfind do, on short lines and on lines
longer than its near search, and redaction of one long line finds what it finds on short ones."""

from __future__ import annotations

import random
import re

import pytest

from level5.safety import redaction
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


class _Counted:
    """A pattern that counts the characters its searches may read (each search's window)."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern, self.read = pattern, 0

    def search(self, text: str, pos: int, endpos: int) -> re.Match[str] | None:
        self.read += endpos - pos
        return self.pattern.search(text, pos, endpos)


def test_a_search_stops_at_its_reach_past_the_trigger() -> None:
    """A display name ends at the "<" of the address its trigger found. Where no name precedes it ("Build 42
    <ci@...>"), the search stops there rather than reading the rest of a long line up to the next name
    (about 200 ns a character for this pattern: a tenth of the time of a 4 MB line)."""
    from level5.safety.redaction import _DISPLAY_NAME, _matches

    text = f"Build 42 <ci@example.org> {'9' * (3 * NEAR)}; Ann Lee <ann@example.org>"
    spans = [m.span() for m in re.finditer(r"[ \t]<[^>\s@]+@", text)]
    counted = _Counted(_DISPLAY_NAME)
    found = [m.group().strip() for m in _matches(counted, text, spans, back=80, reach=0)]
    assert found == ["Ann Lee"]
    assert counted.read < 300, counted.read


def test_windows_of_known_width_hold_the_longest_values() -> None:
    """The URL-password and passenger triggers point at windows of a known width (not their line from its
    start): a user of 128 characters with a password of 256 after a long scheme, and a passenger with
    given names of 63 characters, are still found."""
    redactor = Redactor(b"test")
    password = "p4" * 128
    url = f"connecting to postgresql+psycopg2://{'u' * 128}:{password}@db.internal:5432/app"
    assert password not in redactor.redact(url).text
    given = "ADAEZE CHIDIMMA NGOZI OLUWASEUN IFEOMA AMARACHI NNEKA CHINWENDU"
    assert len(given) == 63
    manifest = f"  3  OKONKWO-ADEBAYO/{given} MRS   ADT  LO0281  WAW-CDG  OK"
    assert "OKONKWO" not in redactor.redact(manifest).text


def _lower_cases() -> list[str]:
    """Texts whose pieces (redaction._pieces) end near a Greek capital sigma, whose lower case depends on
    what is around it, and texts without a place to cut."""
    piece = redaction._LOWER_PIECE
    word = "ΟΔΥΣΣΕΥΣ ΣΑΣ"  # final and medial sigmas, and a sigma alone
    return [
        "",
        "İstanbul ΟΔΥΣΣΕΥΣ",
        ("a" * (piece - 3) + " " + word + "\n") * 5,
        ("b" * (piece - 1) + "Σ\nΣ" + word) * 3,
        "B" * (piece - 1) + "ΣΑΣ " + word,  # cut after the first sigma, it would read as a word's end
        "Σ" * (3 * piece),  # no line break or space: one piece
        ("x" * (piece + 5) + " ") * 4 + "😀" + word,
    ]


@pytest.mark.parametrize("text", _lower_cases(), ids=range(len(_lower_cases())))
def test_the_lower_case_by_pieces_is_the_lower_case_of_the_whole(text: str) -> None:
    lowered = redaction._lowered(text)
    assert lowered == text.replace("\u0130", "i").lower()
    assert "".join(redaction._pieces(text)) == text
    assert all(len(p) <= 2 * redaction._LOWER_PIECE for p in list(redaction._pieces(text))[:-1])
