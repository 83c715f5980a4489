"""One pass of a multi-pattern engine (Hyperscan) that finds where each detector has something to look at.

Redaction ran a dozen regular-expression scans of the whole text in Python's ``re`` (10-160 ms per MB
each). Here every detector names a *trigger*: a cheap pattern, without look-arounds, that matches wherever
one of its values could start (a superset of its own matches). All triggers are compiled into one
Hyperscan database and found in a single scan (well under a millisecond per MB); the detector then runs
its exact Python pattern only at those places. A trigger that may start with a boundary character is
written as ``(?:^|[^...])...`` so that a long run reports once, not once per character.

A *word list* (`Words`) is a set of literal strings, found by Hyperscan's pure-literal compiler in a
second pass over the same bytes (about a millisecond per MB; 20,000 words compile in a fraction of a
second, where the same words as one regular-expression alternation take 10-200 s). Its hits are exact: a
word's start is its end less its length. A detector that wants "a capitalised known first name" asks for
the few hundred places per MB where one stands, instead of checking every capitalised word in Python.

Weighed: ``google-re2`` (linear and fast, but one scan per pattern and no positions from its multi-pattern
``Set``), ``pyahocorasick`` (literals only; most triggers are digit and character-class shapes), and one
combined Python alternation (no faster than the separate scans). Hyperscan reports every pattern's start
and end in one pass, in linear time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import hyperscan

from level5.safety.lines import line_index


@dataclass(frozen=True)
class Trigger:
    """A named pattern (Hyperscan syntax, no look-arounds) and whether it ignores case.

    With a `width` (the longest match the pattern can make), Hyperscan does not track where a match
    starts, which costs two to four times as much scanning as finding its end; its hits then start
    `width` characters before their end (a window that holds the real start). Width 0 is for a pattern
    that never crosses a line break: its hits start where their line starts."""

    name: str
    pattern: str
    caseless: bool = False
    width: int | None = None


@dataclass(frozen=True)
class Words:
    """A named set of literal strings (Latin-1; a character outside it stands for any such character,
    as in the scanned bytes), matched case-sensitively wherever they occur, inside words too: the
    detector checks the boundaries it needs."""

    name: str
    words: frozenset[str]


Hits = dict[str, list[tuple[int, int]]]
"""Trigger name -> (start, end) character offsets of its matches, in text order."""


class Prefilter:
    """A compiled set of triggers; ``scan`` finds all of them in one pass."""

    def __init__(self, triggers: Sequence[Trigger], words: Sequence[Words] = ()) -> None:
        self._names = [t.name for t in triggers]
        self._widths = [t.width for t in triggers]
        # None for no triggers (detectors that read no hits, alone in a worker's group: see redaction.groups).
        self._db: hyperscan.Database | None = None
        if triggers:
            self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._db.compile(
                expressions=[t.pattern.encode("latin-1") for t in triggers],
                ids=list(range(len(triggers))),
                elements=len(triggers),
                flags=[
                    hyperscan.HS_FLAG_MULTILINE
                    | (hyperscan.HS_FLAG_CASELESS if t.caseless else 0)
                    | (hyperscan.HS_FLAG_SOM_LEFTMOST if t.width is None else 0)
                    for t in triggers
                ],
            )
        # Every word of every list, by Hyperscan id: its list and its length.
        literals = sorted({(i, _latin1(word)) for i, w in enumerate(words) for word in w.words})
        self._words = [(i, len(literal)) for i, literal in literals]
        self._word_names = [w.name for w in words]
        self._literals: hyperscan.Database | None = None
        if literals:
            self._literals = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._literals.compile(
                expressions=[literal for _, literal in literals],
                ids=list(range(len(literals))),
                elements=len(literals),
                literal=True,
            )
        # Hyperscan's scratch space is per thread (and per database).
        self._local = threading.local()

    @property
    def names(self) -> tuple[str, ...]:
        """The triggers' names, in the order they were given."""
        return (*self._names, *self._word_names)

    def scan(self, text: str) -> Hits:
        """Every trigger's matches in `text`, in character offsets."""
        if self._db is None and self._literals is None:
            return {}
        if not getattr(self._local, "ready", False):
            self._local.scratch = hyperscan.Scratch(self._db) if self._db is not None else None
            if self._literals is not None:
                self._local.word_scratch = hyperscan.Scratch(self._literals)
            self._local.ready = True
        # One byte per character, so offsets need no mapping: Latin-1 keeps the accented letters that
        # some triggers spell out, and any other character becomes "?" (triggers treat it as a non-digit
        # non-space, and the detectors look at the real text).
        data = text.encode("latin-1", "replace")
        found: list[list[tuple[int, int]]] = [[] for _ in self._names]
        # Called once per match (about 19,000 times per MB of program output): bound methods, no lookups.
        appends = [spans.append for spans in found]

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            appends[index]((start, end))

        if self._db is not None:
            self._db.scan(data, match_event_handler=on_match, scratch=self._local.scratch)
        hits = {
            name: sorted(spans) if width is None else _windows(text, spans, width)
            for name, width, spans in zip(self._names, self._widths, found, strict=True)
        }
        if self._literals is not None:
            words: list[list[tuple[int, int]]] = [[] for _ in self._word_names]
            entries = self._words

            def on_word(index: int, start: int, end: int, flags: int, context: object) -> None:
                which, length = entries[index]
                words[which].append((end - length, end))

            self._literals.scan(data, match_event_handler=on_word, scratch=self._local.word_scratch)
            hits.update((name, sorted(spans)) for name, spans in zip(self._word_names, words, strict=True))
        return hits


class Literals:
    """Literal strings in any script, found in one Hyperscan pass over a text's UTF-8 bytes, where a
    search in Python's re for their alternation visits every character (15 ms per MB of mixed output,
    most of it on letters outside Latin-1, where an alternation of hundreds of words is tried word by
    word).

    ``spans`` gives what ``finditer`` of their alternation, longest first, gives: the leftmost match,
    the longest there, then the next one after its end. Hyperscan reports every occurrence (overlapping
    ones too); one sort by (start, longest first) and one sweep keep exactly those."""

    def __init__(self, words: Sequence[str]) -> None:
        literals = sorted({word.encode("utf-8", "surrogatepass") for word in words})
        self._lengths = [len(literal) for literal in literals]
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=literals, ids=list(range(len(literals))), elements=len(literals), literal=True
        )
        self._local = threading.local()

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) character offsets of the words in `text`, as ``finditer`` would find them."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        # "surrogatepass": a lone surrogate (from JSON's \ud800) is one character either way.
        data = text.encode("utf-8", "surrogatepass")
        found: list[tuple[int, int]] = []
        lengths = self._lengths

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            found.append((end - lengths[index], end))

        self._db.scan(data, match_event_handler=on_match, scratch=scratch)
        found.sort(key=_leftmost_longest)
        spans: list[tuple[int, int]] = []
        # Byte offsets become character offsets by decoding the bytes between them (offsets only grow).
        byte, char, last = 0, 0, 0
        for start, end in found:
            if start < last:
                continue
            char += len(data[byte:start].decode("utf-8", "surrogatepass"))
            length = len(data[start:end].decode("utf-8", "surrogatepass"))
            spans.append((char, char + length))
            byte, char, last = end, char + length, end
        return spans


def _leftmost_longest(span: tuple[int, int]) -> tuple[int, int]:
    return span[0], -span[1]


def _latin1(word: str) -> bytes:
    """The word as the scan sees it: one byte per character, "?" for a character outside Latin-1."""
    return word.encode("latin-1", "replace")


def _windows(text: str, spans: list[tuple[int, int]], width: int) -> list[tuple[int, int]]:
    """Hits of a trigger whose starts are not tracked: `width` before their end, or their line's start."""
    if width:
        return sorted([(end - width if end > width else 0, end) for _, end in spans])
    line_start = line_index(text).start
    return sorted([(line_start(end - 1), end) for _, end in spans])
