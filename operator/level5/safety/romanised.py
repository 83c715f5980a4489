"""The concept lexicon read in any script: an override written in another script of a lexicon language.

``concepts`` matches its stems as they are written: Hindi in Devanagari, Persian in Arabic letters,
Vietnamese with its diacritics. The same words are also written in other scripts: Hindi in Latin letters
("pichle nirdesh bhool jao"), Vietnamese without diacritics ("bo qua huong dan"), Persian in Tajik
Cyrillic ("дастурҳоро фаромӯш кун"). Here both the stems and the text are transliterated to Latin
letters (``anyascii``, already layer 1's transliterator) and reduced to a *key*: the first letter, then
the consonants, with the spellings that differ between romanisations folded together (``sh``/``s``,
``q``/``k``/``c``, ``d``/``t``, ``z``/``j``; ``h``, ``w``, ``v`` and doubled letters dropped: "bhool" and
भूल are both ``bl``). A word whose key begins with a dismissal stem's key, near one whose key begins with
an object or "previous" stem's key, in one sentence, is the same override in another script.

Keys are fuzzy, so the check is narrowed to where it is needed: stems written in another script than
Latin (a Latin stem is matched as written by ``concepts``, with its diacritics folded by
``concepts.folded_override``), texts that are not English (few English function words; English has its
own features), stems whose key holds at least four letters (three over two words), and both concepts
within ``REACH_WORDS`` words of each other in one sentence.

Weighed: ``Unidecode`` (the same job as ``anyascii``, GPL-licensed, already covered by anyascii, which is
ISC); ``indic-transliteration`` and ``pinyin`` libraries (one script each, and their schemes are not how
people type romanised text either: the key's folding is what absorbs that).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from anyascii import anyascii

from level5.safety.concepts import LEXICON

REACH_WORDS = 8
_MIN_KEY = 4
_DIGRAPHS = (
    ("sh", "s"),
    ("ch", "c"),
    ("kh", "k"),
    ("gh", "g"),
    ("ph", "f"),
    ("th", "t"),
    ("zh", "j"),
    ("ts", "c"),
)
_FOLD = str.maketrans({"q": "k", "c": "k", "d": "t", "z": "j", "x": "k", "h": None, "w": None, "v": None})
_VOWELS = re.compile("[aeiouy]")
_SENTENCE = re.compile(r"[.!?;\n()।。！？]")
# English is told apart by its function words, the commonest words of any English sentence.
ENGLISH_FUNCTION_WORDS = frozenset(
    re.findall(
        r"\w+",
        "the a an and or of to in on for with from by at as is are be it its this that these those each "
        "every all into per than then not no do does what which how if when where our your my we you i",
    )
)
ENGLISH_SHARE = 0.12


@lru_cache(maxsize=65_536)
def key(word: str) -> str:
    """A word's romanised key: anyascii, letters only, digraphs folded, first letter kept, then the
    consonants of the rest with similar ones folded together and repeats collapsed. (Cached: words repeat,
    and transliterating is most of the check's time.)"""
    latin = re.sub("[^a-z]", "", anyascii(word).lower())
    for digraph, single in _DIGRAPHS:
        latin = latin.replace(digraph, single)
    # A nasal before a consonant is written n or m (Indic anusvara): "nazarandaz", "nj'ramdaj'".
    latin = re.sub("m(?=[bcdfgjklnpqrstxz])", "n", latin)
    if not latin:
        return ""
    head, rest = latin[0].translate(_FOLD) or latin[0], _VOWELS.sub("", latin[1:]).translate(_FOLD)
    return re.sub(r"(.)\1+", r"\1", head + rest)


def _stem_keys(stems: list[str]) -> dict[str, list[tuple[str, ...]]]:
    """Stems as tuples of word keys, indexed by their first key's first two letters; stems too short to
    tell apart from chance (fewer than ``_MIN_KEY`` letters in all) are left out."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for stem in stems:
        keys = tuple(k for k in (key(w) for w in stem.split()) if k)
        if keys and sum(map(len, keys)) >= (_MIN_KEY if len(keys) == 1 else _MIN_KEY - 1):
            index.setdefault(keys[0][:2], []).append(keys)
    return index


def _other_script(column: int) -> list[str]:
    """A column's stems written in another script than Latin: a Latin stem is matched as it is written
    (``concepts``), and its key would only add chance matches."""
    return [stem for row in LEXICON.values() for stem in row[column].split("|") if not _LATIN.match(stem)]


_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff' ’-]+$")
# English words of dismissal, which romanised text borrows ("pichle niyam ignore karo").
_DISMISSAL = _stem_keys([*_other_script(0), "ignore", "disregard", "forget"])
_TARGET = _stem_keys(_other_script(1))


def _hits(keys: list[str], index: dict[str, list[tuple[str, ...]]]) -> Iterator[int]:
    """Positions in `keys` where a stem of `index` starts (its last word a prefix, the others whole)."""
    for position, word in enumerate(keys):
        for stem in index.get(word[:2], ()):
            end = position + len(stem)
            if end <= len(keys) and all(
                keys[position + i] == part if i < len(stem) - 1 else keys[position + i].startswith(part)
                for i, part in enumerate(stem)
            ):
                yield position
                break


def _not_english(words: list[str]) -> bool:
    return len(words) >= 4 and sum(w.lower() in ENGLISH_FUNCTION_WORDS for w in words) < ENGLISH_SHARE * len(
        words
    )


def romanised_override(text: str) -> bool:
    """Whether a sentence of `text` (not English) holds a dismissal and an object or "previous" of the
    lexicon, matched by romanised keys, within ``REACH_WORDS`` words."""
    for sentence in _SENTENCE.split(text):
        words = re.findall(r"[^\W\d_][\w'’-]*", sentence)
        if not _not_english(words):
            continue
        keys = [key(w) for w in words]
        dismissals = list(_hits(keys, _DISMISSAL))
        if dismissals and any(
            abs(target - dismissal) <= REACH_WORDS and target != dismissal
            for target in _hits(keys, _TARGET)
            for dismissal in dismissals
        ):
            return True
    return False
