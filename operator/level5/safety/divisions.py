"""Addresses written as a chain of administrative divisions, for layer 5 (``redaction.py``).

Where the street is not what locates a home, an address names the units that hold it, each marked by
its kind, from the smallest to the largest or the other way, separated by commas: a hamlet, a commune,
a district and a province in Vietnam ("Ấp 3, Xã ..., Huyện ..., Tỉnh ..."), the word before the name;
a city, a district, a quarter, a house and a flat in Uzbekistan ("... sh., ... tumani, 12-kvartal,
5-uy, 34-xonadon"), the word after it. One such field is ordinary prose ("the district of ..."); two or
more in a row, each with its kind's word, are an address. A postcode may close the chain.

The prefilter's trigger (``TRIGGER``) is one of the division words that most of these addresses hold;
``CHAIN`` is then matched on the trigger's line, in lower case (``redaction._Caseless``).
"""

from __future__ import annotations

import re

# Vietnamese units, written before their name: hamlets and villages (ấp, thôn, xóm, bản), a residential
# group and a quarter (tổ, khu phố), a commune or ward (xã, phường, thị trấn), a district or a town
# (huyện, quận, thị xã, thành phố, "tp."), a province (tỉnh).
_BEFORE = (
    "ấp", "thôn", "xóm", "bản", "tổ", "khu phố", "xã", "phường", "thị trấn", "thị xã", "huyện", "quận",
    "thành phố", "tp.", "tỉnh",
)  # fmt: skip
# Uzbek units, written after their name: a city (sh., shahri), a region (viloyati), a district (tumani),
# a neighbourhood (mahallasi, MFY), a street (ko'chasi, with its apostrophe written four ways), and the
# numbered quarter, house and flat (12-kvartal, 5-uy, 34-xonadon).
_AFTER = (
    "sh.", "shahri", "viloyati", "tumani", "mahallasi", "mfy", "ko'chasi", "ko\u2018chasi", "ko\u2019chasi",
    "ko\u02bbchasi", "kvartal", "uy", "xonadon",
)  # fmt: skip


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(word.replace(".", r"\.") for word in sorted(words, key=len, reverse=True))


# A field's name: letters, digits, spaces, "-", "." and apostrophes, up to 40 characters, no separator.
_NAME = r"[^\W_][\w .'\u2018\u2019\u02bb-]{0,39}"
_UNIT = (
    rf"(?:(?<![\w])(?:{_alternation(_BEFORE)})[ \t]+{_NAME}"
    rf"|{_NAME}[ \t-](?:{_alternation(_AFTER)}))(?![\w\u2018\u2019\u02bb])"
)
CHAIN = rf"{_UNIT}(?:,[ \t]*{_UNIT})+(?:,[ \t]*\d{{5,6}}(?!\d))?"
"""Two division fields or more in a row, then maybe a postcode (the text in lower case)."""
_BEFORE_WORD = re.compile(rf"(?:{_alternation(_BEFORE)})[ \t]+", re.IGNORECASE)
_AFTER_WORD = re.compile(rf"[ \t-](?:{_alternation(_AFTER)})$", re.IGNORECASE)
_NAME_WORDS = 4


def _proper(name: str) -> bool:
    """A unit's own name: at most four words, each a number or capitalised (a proper name; prose after
    a division word is in lower case: "the district of ...")."""
    words = name.split()
    return 0 < len(words) <= _NAME_WORDS and all(word[0].isdigit() or word[0].isupper() for word in words)


def chain(fields: str) -> bool:
    """Whether a match of ``CHAIN``, as the text writes it, names places: every division's name proper,
    and one of them a name rather than a number (two house numbers are no address)."""
    named = False
    for field in fields.split(","):
        field = field.strip()
        if field.isdigit():
            continue  # the postcode
        before, after = _BEFORE_WORD.match(field), _AFTER_WORD.search(field)
        name = field[before.end() :] if before else field[: after.start()] if after else ""
        if not _proper(name):
            return False
        named = named or not name[0].isdigit()
    return named


# The prefilter reads one byte per character, any character outside Latin-1 as "?" (prefilter.py): the
# Vietnamese words whose letters are in Latin-1 or whose "?" stands in a longer word, and the Uzbek
# district, region and street words and the numbered house and flat.
TRIGGER = (
    r"(?:^|[^\w])(?:x\xe3|huy\?n|t\?nh|ph\?\?ng|qu\?n|th\xf4n|x\xf3m|th\? x\xe3|th\? tr\?n|tp\.) "
    r"|[ \t](?:tumani|viloyati|mahallasi|shahri|ko.chasi)[^\w]|[ \t]sh\.,|\d-(?:uy|xonadon|kvartal)[^\w]"
)
TRIGGER_WIDTH = 20
"""The longest match of ``TRIGGER`` (a division word and the characters around it)."""
BEFORE, AFTER = 160, 480
"""How far a chain may start before the first division word ``TRIGGER`` knows (up to three fields whose
words it does not know, such as "ấp" or "khu phố": 40 characters of name and their word each), and how far
it may run past that word (eight fields more)."""
