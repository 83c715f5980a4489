"""The first names that layer 5 looks for in running text (``operator/level5/safety/data/first_names.txt``),
taken from Faker's person providers (a pinned development dependency): `python tests/corpora/first_names.py`
(`make corpora`) writes them, one lower-case name a line; a unit test fails when the file drifts from what
this makes.

A first name that is also an ordinary word is left out: any word of Faker's word lists (its lorem
providers: a thousand common words in each of 30 languages; a German noun such as "Bett" is capitalised in
running text) and the English words a program capitalises (`HOMOGRAPHS`: "Max Value", "Page Count",
"Grant Access", "Will Retry"). The clean prose of the redaction corpus is made from those word lists, so
its figure for names in prose is not an independent measure.

The locales of round 3's held-out half (``redaction_corpus.ROUND3_HELDOUT_LOCALES``) are left out, so that
the held-out figure measures names from locales whose lists the detector never saw (many first names are
shared across locales all the same: a Mexican "Eugenio" is also a Spanish one). Only names in a script
with letter case are kept: the detector needs a capital letter to see where a name starts.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import faker.providers.lorem
import faker.providers.person

try:
    from corpora.redaction_corpus import ROUND3_HELDOUT_LOCALES
except ImportError:  # run as a script, from its own folder
    from redaction_corpus import ROUND3_HELDOUT_LOCALES  # type: ignore[no-redef]

OUTPUT = Path(__file__).resolve().parents[2] / "operator" / "level5" / "safety" / "data" / "first_names.txt"
ATTRIBUTES = ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary")
HOMOGRAPHS = frozenset(
    {
        "an",
        "april",
        "art",
        "august",
        "bill",
        "bob",
        "chase",
        "con",
        "dean",
        "del",
        "grant",
        "guy",
        "hope",
        "joy",
        "june",
        "lane",
        "le",
        "long",
        "major",
        "mark",
        "max",
        "may",
        "page",
        "park",
        "per",
        "rose",
        "son",
        "summer",
        "van",
        "will",
        "young",
        "amber",
        "angel",
        "autumn",
        "bay",
        "blue",
        "brand",
        "case",
        "cash",
        "china",
        "crystal",
        "dawn",
        "day",
        "earl",
        "faith",
        "forest",
        "gay",
        "golden",
        "grace",
        "happy",
        "heather",
        "holly",
        "ivy",
        "jade",
        "lily",
        "lucky",
        "merry",
        "mercy",
        "mister",
        "north",
        "pearl",
        "precious",
        "price",
        "rich",
        "river",
        "ruby",
        "sky",
        "sterling",
        "sunny",
        "star",
        "stone",
        "storm",
        "true",
        "unity",
        "victory",
        "ward",
        "west",
        "white",
        "winter",
    }
)


def _providers(package: object) -> list[object]:
    """The Provider class of every locale of a Faker provider package, less the held-out locales."""
    path = package.__path__  # type: ignore[attr-defined]
    name = package.__name__  # type: ignore[attr-defined]
    return [
        importlib.import_module(f"{name}.{module.name}").Provider
        for module in pkgutil.iter_modules(path)
        if module.name not in ROUND3_HELDOUT_LOCALES
    ]


def first_names() -> list[str]:
    """Every first name of every person provider outside the held-out locales that is not also a common
    word, lower case, sorted."""
    words = {word.lower() for p in _providers(faker.providers.lorem) for word in getattr(p, "word_list", ())}
    names: set[str] = set()
    for provider in _providers(faker.providers.person):
        for attribute in ATTRIBUTES:
            values = getattr(provider, attribute, ())
            for name in values if isinstance(values, tuple | list | dict) else ():
                if name[:1].isupper() and " " not in name and len(name) > 1:
                    names.add(name.lower())
    return sorted(names - words - HOMOGRAPHS)


def render() -> str:
    return "\n".join(first_names()) + "\n"


def main() -> int:
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
