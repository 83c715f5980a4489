"""Layer 5's patterns that open with their first character as a class (so Python's re skips to where a
match can start) find what their plainer forms find: the same matches in a search that starts within the
string's first three characters (where a look-behind reads before the start) and ends anywhere, or, where
only whether one matches is read, the same answer."""

from __future__ import annotations

import random
import re
from re import _compiler, _parser  # type: ignore[attr-defined]  # (the prefix re computes: no public API)
from typing import NamedTuple

import pytest

from level5.safety import postal, redaction


class Plainer(NamedTuple):
    """A pattern's plainer form, the characters (or pieces) its test strings are drawn from, and whether
    only a match's presence is read (so the first match may start elsewhere)."""

    pattern: re.Pattern[str]
    plain: str
    alphabet: str | tuple[str, ...]
    presence_only: bool = False


PATTERNS = {
    "card": Plainer(
        redaction._CARD, r"(?<![\d-])(?:\d[ _-]?){11,18}\d(?![\d-])", "01234567890123456789 _-a."
    ),
    "ipv4": Plainer(
        redaction._IPV4,
        r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)",
        ("1.", "25.", "255.", "0.", "1234.", "7", "12", " ", "a", ".", "_"),
    ),
    "phone": Plainer(
        redaction._PHONE_CANDIDATE,
        r"(?<![\w+])(?=[+(]?(?:[ ().\-/]{0,2}\d){8})(?:\+ ?)?(?:\(\d{1,5}\)[ .-]?)?\d[0-9 ().\-/]{5,22}\d"
        r"(?: ?x\d{1,5})?",
        "0123456789012345678901234567890123456789+() .-/xa_",
    ),
    "field end": Plainer(
        postal._FIELD_END,
        r"\t| {2,}|\||;|\"|=|: |\uff1a|->|[()\[\]<>{}`]| - | / |,(?=\S)|\n",
        " \t|;\"=:\uff1a->()[]<>{}`/,\na",
    ),
    "proper word": Plainer(
        postal._PROPER,
        r"(?<![\w])[^\W\d_a-z\xdf-\xff][^\W\d_]{2}|[^\W\d_a-zA-Z\xc0-\u024f\u0370-\u04ff]",
        "aAbBÉéßЖж中1_ .²ǅ",
        presence_only=True,
    ),
    "id-like": Plainer(
        postal._ID_LIKE,
        r"\d{9,}|\d:\d|[A-Z]{2,}-?\d{5,}|\d{4}-\d\d-\d\d",
        "0123456789AB-:a ٣",
        presence_only=True,
    ),
}


@pytest.mark.parametrize("name", PATTERNS)
def test_a_pattern_finds_what_its_plainer_form_finds(name: str) -> None:
    pattern, plain_text, alphabet, presence_only = PATTERNS[name]
    plain = re.compile(plain_text, pattern.flags)
    rng = random.Random(name)  # fixed: the same strings on every run
    found = 0
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 48)))
        start = rng.randrange(min(3, len(text)))
        end = rng.randrange(start, len(text) + 1)
        if presence_only:
            found_here = pattern.search(text, start, end) is not None
            assert found_here is (plain.search(text, start, end) is not None), (text, start, end)
        else:
            spans = [m.span() for m in plain.finditer(text, start, end)]
            assert [m.span() for m in pattern.finditer(text, start, end)] == spans, (text, start, end)
        found += plain.search(text, start, end) is not None
    assert found > 200  # the strings hold matches, not only failures


@pytest.mark.parametrize("name", PATTERNS)
def test_a_search_skips_to_where_a_match_can_start(name: str) -> None:
    pattern = PATTERNS[name].pattern
    assert _compiler._get_charset_prefix(_parser.parse(pattern.pattern, pattern.flags), pattern.flags)


def test_the_plainer_form_has_no_such_prefix() -> None:
    """The check above can fail: a pattern that opens with a look-behind has no prefix."""
    plain = PATTERNS["card"].plain
    assert _compiler._get_charset_prefix(_parser.parse(plain, re.ASCII), re.ASCII) is None
