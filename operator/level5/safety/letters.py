"""The head of a postal letter: the recipient's name and address block, found by the letter's layout.

A letter opens with a block of short lines, the recipient's name on the first and the address below it
(street, house number, postcode, town, region: in whatever order and vocabulary the country uses), then
a blank line and a salutation that ends in a comma ("Gentile Romina,", "Почитуван/а Зоран,"). The layout
is the evidence, not the words: no street-type word or postcode shape is needed, so it holds for
"Rua Matos / 71 / 3452-506 Tomar", "Canale Letta / 30 Appartamento 78 / 27056 / Cornale (PV)" and
"Manuel Rodríguez 313 / Cabrero / Región del Biobío" alike.

What must hold: the block starts the text or follows a blank line; it has two to six lines of at most 60
characters, none of them a field (``Key: value``) or holding an ``@``; the first line is two to five
capitalised words and no digit; the address lines hold a digit (a house number or a postcode); a blank
line and a salutation of at most 60 characters ending in a comma follow it. The words of the name that
the salutation repeats are the same person's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_NAME_LINE = re.compile(r"[^\W\d_][\w'’.-]*(?:[ \t]+[^\W\d_][\w'’.-]*){1,4}")
_FIELD_OR_ADDRESS = re.compile(r"[:=@\t]")
_SALUTATION = re.compile(r"[^\W\d_][^\n]{1,58},[ \t]*(?=\n|$)")
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_LINE_MAX = 60

Found = tuple[int, int, str, int]
"""(start, end, kind, priority) of a value."""


def _capitalised(words: str) -> bool:
    """Every word starts with a capital (or a letter of a script without case)."""
    return all(w[0].isupper() or (not w[0].islower() and ord(w[0]) > 0x2FF) for w in words.split())


def find(text: str) -> Iterator[Found]:
    """The name (PERSON) and address (ADDRESS) of every letter head in the text."""
    gap = text.find("\n\n")
    while gap != -1:
        salutation = _SALUTATION.match(text, gap + 2)
        if salutation is not None:
            head = list(_head(text, gap))
            yield from head
            if head:  # the salutation repeats the recipient's name, or part of it ("Gentile Romina,")
                name = set(text[head[0][0] : head[0][1]].split())
                for word in _WORD.finditer(text, salutation.start(), salutation.end()):
                    if word.group() in name:
                        yield (word.start(), word.end(), "PERSON", 36)
        gap = text.find("\n\n", gap + 2)


def _head(text: str, gap: int) -> Iterator[Found]:
    """The block that ends at `gap` (a blank line before a salutation), when it is a letter head."""
    before = text.rfind("\n\n", 0, gap)
    start = 0 if before == -1 else before + 2
    block = text[start:gap]
    lines = block.split("\n")
    if not 2 <= len(lines) <= 6 or any(len(line) > _LINE_MAX or not line.strip() for line in lines):
        return
    if _FIELD_OR_ADDRESS.search(block):
        return
    name = lines[0].strip()
    if not _NAME_LINE.fullmatch(name) or not _capitalised(name):
        return
    address_start = start + len(lines[0]) + 1
    if not _DIGIT.search(text, address_start, gap):
        return
    name_start = start + lines[0].index(name)
    yield (name_start, name_start + len(name), "PERSON", 36)
    yield (address_start, gap, "ADDRESS", 41)
