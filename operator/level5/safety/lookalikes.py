"""Letters of other scripts that pass for Latin ones (Unicode TR39 confusables), as a translation table.

Layer 1 (``injection.normalise``) reads a word that mixes Latin with such letters in Latin letters
("ignore" spelled with Cherokee capitals or Armenian small letters). The table is Unicode's own list of
confusables (``confusables.txt``, shipped by the ``confusable-homoglyphs`` package as JSON), reduced to
the letters of *other* scripts whose prototype is one ASCII letter: Cyrillic, Greek, Armenian, Cherokee,
Lisu, Coptic, Canadian syllabics... Latin letters with accents are left alone (they are letters of the
languages the concept lexicon reads), and so is everything that is not a letter. Weighed: hand-kept lists
of look-alikes (the one before covered Cyrillic and Greek only; each new script was another gap),
``confusables`` (the same data, matching API only, unmaintained since 2021), ``disarm`` (young, brings
more than a table).
"""

from __future__ import annotations

import json
import unicodedata
from importlib import resources


def _latin_prototypes() -> dict[str, str]:
    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    table: dict[str, str] = {}
    for char, alternatives in data.items():
        if len(char) != 1 or char.isascii() or not unicodedata.category(char).startswith("L"):
            continue
        if unicodedata.name(char, "LATIN").startswith("LATIN"):
            continue
        prototype = next(
            (a["c"] for a in alternatives if len(a["c"]) == 1 and a["c"].isascii() and a["c"].isalpha()), None
        )
        if prototype is not None:
            table[char] = prototype
    return table


LATIN_PROTOTYPES: dict[str, str] = _latin_prototypes()
"""A letter of another script -> the ASCII letter it passes for."""
