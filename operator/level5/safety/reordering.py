"""Hidden orders that are put back in order, or decoded by the scheme the text names, for ``decoding``.

Round 13 (``tuning13``) hid attacks without an encoding that ``decoding`` finds by its look: numbered
chunks given out of order ("[chunk 3] ... [chunk 1] ..."), the words of a sentence in reverse order
("gate review the disable and ..."), and ROT47 on a line with too few symbols to look encoded, each
with a label that tells the reader how to read it ("[hint, reversed]", "rot47 hint:"). An attack names
its scheme because a model must know how to undo it; so the label is what is read here, not the payload's
wording: whatever the pieces say, they are put in order (or decoded) and checked like the text around
them.

Round 15 (``tuning15``) numbered its pieces under labels of its own ("[agent-msg 2/4]"), as the values of
numbered keys (three headers "X-Note-1..3" given out of order), or handed out its words one to a pair of
brackets for a regular expression to pick out: each is put together the same way.

Bounded as the rest of ``decoding``: one pass over the text per reading, each only when its label or its
numbered pieces are there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A piece numbered by its label, at the start of a line ("[chunk 3] ...", "part 2: ...", "(fragment 1/3)").
_NUMBERED = re.compile(
    r"(?im)^[ \t]*[\[(]?(?:chunk|part|fragment|piece|segment|shard|slice)[ \t]*#?(\d{1,2})"
    r"(?:[ \t]*(?:/|of)[ \t]*\d{1,2})?[\])]?[ \t]*[:.)-]?[ \t]*(\S[^\n]*)"
)
# A text that says its words run backwards ("[hint, reversed]", "read it backwards", "right to left").
_REVERSED_LABEL = re.compile(r"(?i)\b(?:revers\w*|backwards?|right[ -]to[ -]left|last word first)\b")
# A text that names ROT47 ("rot47 config hint:", "ROT-47").
_ROT47_LABEL = re.compile(r"(?i)\brot[ -]?47\b")


# Since round 15 (``tuning15``): a piece counted out of a whole anywhere in a line, under any label
# ("a1f3c02 [agent-msg 2/4] branch protection"): "k/n" in brackets says the line is one of n pieces.
_COUNTED = re.compile(
    r"[\[(][ \t]*[\w-]{0,40}?[ \t#-]?(\d{1,2})[ \t]*(?:/|of)[ \t]*\d{1,2}[ \t]*[\])]"
    r"[ \t]*[:.-]?[ \t]*(\S[^\n]*)"
)
# and values under one key numbered in turn ("X-Note-3 \"to ...\"", "part_1 = ..."), three or more.
_NUMBERED_KEY = re.compile(
    r"(?m)\b([a-z][\w-]{0,40}?)[-_](\d{1,2})\b[\"']?[ \t]*[:=]?[ \t]*[\"']([^\"'\n]+)[\"']", re.IGNORECASE
)
_MIN_KEYED = 3
# Words handed out one to a pair of brackets ("alpha [disable] beta [the] ..."), to be picked out and
# joined in order: four or more, each a word or two of letters.
_BRACKETED = re.compile(r"\[([A-Za-z]+(?: [A-Za-z]+)?)\]")
_MIN_BRACKETED = 4


def _in_order(pieces: dict[int, str]) -> str:
    return " ".join(pieces[number] for number in sorted(pieces))


def numbered_pieces(text: str) -> str | None:
    """The numbered pieces of `text` joined in the order of their numbers, when there are two or more
    with different numbers, else None."""
    pieces = {int(number): piece.strip() for number, piece in _NUMBERED.findall(text)}
    if len(pieces) < 2:
        pieces = {int(number): piece.strip() for number, piece in _COUNTED.findall(text)}
    return _in_order(pieces) if len(pieces) >= 2 else None


def keyed_pieces(text: str) -> str | None:
    """The values of the key numbered most often in `text` joined in the order of their numbers, when it
    is numbered ``_MIN_KEYED`` times or more, else None."""
    keys: dict[str, dict[int, str]] = {}
    for key, number, value in _NUMBERED_KEY.findall(text):
        keys.setdefault(key.lower(), {})[int(number)] = value.strip()
    pieces = max(keys.values(), key=len, default={})
    return _in_order(pieces) if len(pieces) >= _MIN_KEYED else None


def bracketed_words(text: str) -> str | None:
    """The words in brackets of `text` joined, when there are ``_MIN_BRACKETED`` or more, else None."""
    words = _BRACKETED.findall(text)
    return " ".join(words) if len(words) >= _MIN_BRACKETED else None


def words_reversed(text: str) -> str | None:
    """Each line of `text` with its words in reverse order, when the text says it is reversed."""
    if _REVERSED_LABEL.search(text) is None:
        return None
    return "\n".join(" ".join(line.split()[::-1]) for line in text.splitlines())


def named_rot47(text: str) -> bool:
    """Whether `text` names ROT47 as its encoding (then the whole text is decoded, whatever its look)."""
    return _ROT47_LABEL.search(text) is not None


def reordered(text: str) -> Iterator[tuple[str, str]]:
    """(how, text) for each reading of `text` that its numbers or its label ask for (ROT47 is
    ``decoding``'s own)."""
    if (pieces := numbered_pieces(text)) is not None:
        yield "numbered pieces put in order", pieces
    if (keyed := keyed_pieces(text)) is not None:
        yield "numbered keys' values put in order", keyed
    if "[" in text and (bracketed := bracketed_words(text)) is not None:
        yield "words in brackets joined", bracketed
    if (backwards := words_reversed(text)) is not None:
        yield "words in reverse order", backwards
