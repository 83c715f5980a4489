"""Layer 5: postal addresses that the rules left, found by a small model after them.

What: a logistic regression over hashed character n-grams of a candidate (its lower-cased text, digits as
``0``), n-grams of its shape (``Kerkstraat 14-2`` is ``Aa 9-9``), its length and word count, and the key
or word just before it (``destino=``, ``cim:``) and just after it. Weights: ``data/postal_weights.json``,
fitted by ``level5.tools.postal_train`` (``make postal-weights``) on made-up program output only.

Why: the rules find an address by its context (a label, a street word beside a house number, a postcode
line) in the languages they were written for; an address in a format or language they do not know
(``4025 Debrecen, Piac u. 21. 3/12``, ``Calle 93 # 11-26 Apto 502, Bogotá D.C. 110221``) passes. A model
of what addresses look like in any locale finds most of them, where a model of names did not pay (a
previous prototype: names barely rose, clean texts were altered).

Precision, by construction rather than by a threshold alone:
- a candidate is one delimited field of a line (split at tabs, column gaps, ``|``, ``;``, quotes, ``=``,
  ``: ``, brackets) of 8 to 120 characters, holding an address-like token (``_GATE``: a house number
  beside a word, or a postcode's shape) and a capitalised word or one of a caseless script: headings,
  log messages and sentences are mostly not asked at all;
- a field it holds to be an address is dropped where it overlaps what the rules redacted (``left_by``),
  except to widen their own ADDRESS span to the field it lies in (``Plot 12, Adeola Odeku Street,
  Victoria Island, Lagos`` where the rules took the street);
- the training negatives are made per kind of program output (logs, tables, tracebacks, configs,
  versions, prices, citations, headings, product names), each with the fields around it, never from the
  redaction corpus: its clean texts measure the model, they do not train it.

Cost: candidates come from one Hyperscan pass over the text (``_GATE``), each hit's field from a bounded
window of its line; features of all new candidates of a text are hashed in one numpy batch, and a field's
verdict is kept across texts (program output repeats its lines). It needs nothing from the rules until
``left_by``, so it is one of the redactor's detectors (``redaction.DETECTORS``): with detector processes
(``workers.py``) it runs beside the rules, not after them in the caller.

Figures (2026-12-02, the redaction corpus's tuning halves, scored as ``level5 eval-safety`` does; rules
alone -> rules then this model): addresses 194 -> 199 of 209 (round 12's 11 -> 16 of 22), clean texts
unchanged 978 -> 978 of 990, other kinds unchanged. CPU time on the benchmark's 4 MB texts
(``safety_eval.mixed_text``, ``unrepeated_text``), in one process with the compiled rules: 126 -> 142 and
198 -> 219 ms per MB (+13 % and +11 %).
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import functools
import json
import re
import zlib
from collections.abc import Iterable, Sequence
from importlib.resources import files
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from level5.safety.prefilter import Prefilter, Trigger

DIMENSIONS = 1 << 18
"""Hashed feature slots (int8 weights: 256 KiB)."""
MIN_FIELD, MAX_FIELD = 8, 120
"""A candidate's length in characters: shorter is a number beside a word, longer is a sentence."""
WINDOW = 160
"""How far from a gate hit its field is looked for, each way (a line may be a whole megabyte)."""

# Where one field of a line ends: the delimiters of logs, tables, key=value pairs, CSV and code. Every
# alternative opens with a literal character, and _PROPER and _ID_LIKE with a character class: Python's re
# then skips to where a match can start (as redaction's patterns searched from trigger hits; their plainer
# forms are in tests/unit/test_search_prefixes.py). Only whether _PROPER and _ID_LIKE match is read.
_DELIMITER = r"\t|  +|\||;|\"|=|: |\uff1a|->|\(|\)|\[|\]|<|>|\{|\}|`| - | / |,(?=\S)|\n"
_FIELD_END = re.compile(_DELIMITER)
_FIELD_START = re.compile(rf"(?s:.*)(?:{_DELIMITER})")  # greedy: the last delimiter before a position
_STRIP = " .,:'\u3000"
# An address-like token (the gate; Hyperscan syntax over Latin-1, where "?" stands for a letter of another
# script): a house number (1 to 5 digits, not from 0, maybe with a letter or /-numbers) and then a
# capitalised word, a capitalised word (not all capitals: ERROR 2024, ISBN 978) and then a house number,
# or a postcode's shape (NL 1017 GC, UK B0 0ZR, CA K1A 0B1, AR C1043AAZ, JP 107-0061). A lower-case word
# beside a number ("line 41", "12 rows") is program output. An address in a caseless script starts with
# no capital: the gate does not look for one (``scripts.py`` finds those by their own street words).
_UPPER = r"[A-Z\xc0-\xde]"
_LETTER = r"[A-Za-z\xc0-\xff?]"
_NUMBER = r"[1-9]\d{0,4}[A-Za-z]?(?:[-/]\d{1,4})*"
_GATE = Prefilter(
    [
        Trigger(
            "postal",
            rf"(?:^|[^\w.:/#-]){_NUMBER},? {_UPPER}{_LETTER}"
            rf"|{_UPPER}[a-z\xdf-\xff?]+\.?,? (?:No\.? ?|# ?)?{_NUMBER}(?:$|[^\w:/.,-]|[.,](?:$|\D))"
            r"|(?:^|[^\w-])(?:\d{4} ?[A-Z]{2}|[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}|[A-Z]\d[A-Z] ?\d[A-Z]\d"
            r"|[A-Z]\d{4}[A-Z]{3}|\d{3}-\d{4})(?:$|[^\w-])",
        )
    ]
)
# A proper word: a capital and two more letters, or a letter of a caseless script.
_PROPER = re.compile(
    r"[^\W\d_a-z\xdf-\xff](?:(?<![\w].)[^\W\d_]{2}|(?<=[^\W\d_a-zA-Z\xc0-\u024f\u0370-\u04ff]))"
)
# An identifier's shape, which no address has: a long digit run, a clock time or version pair (27001:2022),
# capitals glued to a long number (MF2330113058, ACC-287516), an ISO date.
_ID_LIKE = re.compile(r"[\dA-Z](?:(?<=\d)(?:\d{8}|:\d|\d{3}-\d\d-\d\d)|(?<=[A-Z])[A-Z]+-?\d{5})")
_KEY_BEFORE = re.compile(r"([^\W\d_]+)[^\w\n]{0,3}$")
_WORD_AFTER = re.compile(r"[^\w\n]{0,3}([^\W\d_]+)")
_SPACES = re.compile(r"\s+")


class Candidate(NamedTuple):
    """A field to ask about: [start, end) in the text, and the words just before and after it."""

    start: int
    end: int
    before: str
    after: str


class Weights(NamedTuple):
    """The fitted model: per-slot weights, their bias and the threshold on the probability."""

    slots: npt.NDArray[np.float32]
    bias: float
    threshold: float


def candidates(text: str) -> list[Candidate]:
    """The fields of `text` that hold an address-like token and a proper word, in order, each once."""
    found: list[Candidate] = []
    done = -1  # the end of the last field looked at: a later hit inside it is the same field
    for position, _ in _GATE.scan(text)["postal"]:
        if position < done:
            continue
        # Both searches stay in the window: on one long line (a JSON document, a log without breaks) a
        # search to the line's ends was one to the text's, for every hit (4x the text took 6x the time).
        low = max(text.rfind("\n", max(0, position - WINDOW), position) + 1, position - WINDOW)
        high = text.find("\n", position, position + WINDOW)
        high = min(len(text), position + WINDOW) if high < 0 else high
        after = _FIELD_END.search(text, position + 1, high)
        before = _FIELD_START.match(text, low, position + 1)
        start, end = before.end() if before else low, after.start() if after else high
        done = end
        # A field cut by the window is not a field.
        if (start == low == position - WINDOW) or end == position + WINDOW:
            continue
        while start < end and text[start] in _STRIP:
            start += 1
        while end > start and text[end - 1] in _STRIP:
            end -= 1
        if (
            MIN_FIELD <= end - start <= MAX_FIELD
            and _PROPER.search(text, start, end)
            and not _ID_LIKE.search(text, start, end)
        ):
            key = _KEY_BEFORE.search(text, max(low, start - 40), start)
            word = _WORD_AFTER.match(text, end, min(len(text), end + 40))
            found.append(
                Candidate(
                    start, end, key.group(1).lower() if key else "", word.group(1).lower() if word else ""
                )
            )
    return found


@functools.cache
def _shape_table() -> npt.NDArray[np.uint32]:
    """Shape class of each code point of the Basic Multilingual Plane: 9 digit, A upper, a lower, x a letter
    of a caseless script, space; anything else stands for itself."""
    table = np.arange(0x10000, dtype=np.uint32)
    for point in range(0x10000):
        char = chr(point)
        if char.isdigit():
            table[point] = ord("9")
        elif char.isalpha():
            table[point] = ord("A") if char.isupper() else ord("a") if char.islower() else ord("x")
        elif char.isspace():
            table[point] = ord(" ")
    return table


def _points(texts: Sequence[str]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """The texts' code points, each framed by a space and followed by a NUL, and each point's text index."""
    joined = "".join(f" {t} \0" for t in texts)
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    owner = np.cumsum(points == 0) - (points == 0)
    return points, owner


def _mix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """A hash slot per value (MurmurHash3's finaliser)."""
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    return (values & np.uint64(DIMENSIONS - 1)).astype(np.int64)


def _ngrams(
    points: npt.NDArray[np.uint32], owner: npt.NDArray[np.int64], sizes: Iterable[int], salt: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Slots and owners of every n-gram of `sizes` that stays inside one text."""
    slots, owners = [], []
    wide = points.astype(np.uint64)
    for size in sizes:
        count = len(points) - size + 1
        if count <= 0:
            continue
        value = np.full(count, np.uint64(salt * 131 + size))
        for offset in range(size):
            value = value * np.uint64(1_000_003) + wide[offset : offset + count]
        inside = (owner[:count] == owner[size - 1 :]) & (points[size - 1 :] != 0)
        slots.append(_mix(value[inside]))
        owners.append(owner[:count][inside])
    return np.concatenate(slots), np.concatenate(owners)


def _word_slots(words: Iterable[str]) -> list[int]:
    return [zlib.crc32(word.encode()) & (DIMENSIONS - 1) for word in words]


def features(
    fields: Sequence[tuple[str, str, str]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Hashed feature slots of (field text, word before, word after) triples, and each slot's row."""
    texts = [f[0] for f in fields]
    lowered = [_SPACES.sub(" ", t.lower()) for t in texts]
    points, owner = _points(lowered)
    points = np.where((points >= 48) & (points <= 57), np.uint32(48), points)
    char_slots, char_rows = _ngrams(points, owner, (2, 3, 4), 1)
    points, owner = _points(texts)
    table = _shape_table()
    shapes = np.where(points < 0x10000, table[np.minimum(points, 0xFFFF)], np.uint32(ord("x")))
    shapes = np.where(points == 0, np.uint32(0), shapes)
    # Runs of one class count once (Aaaa 99 is Aa 9); punctuation stays itself.
    keep = np.ones(len(shapes), dtype=bool)
    keep[1:] = shapes[1:] != shapes[:-1]
    shape_slots, shape_rows = _ngrams(shapes[keep], owner[keep], (2, 3, 4, 5), 2)
    extra_slots: list[int] = []
    extra_rows: list[int] = []
    for row, (text, before, after) in enumerate(fields):
        words = len(text.split())
        named = [f"n{min(words, 10)}", f"L{min(len(text) // 10, 12)}", f"b:{before}", f"a:{after}"]
        named += [f"bk:{before[i : i + 3]}" for i in range(max(0, len(before) - 2))]
        extra_slots += _word_slots(named)
        extra_rows += [row] * len(named)
    slots = np.concatenate([char_slots, shape_slots, np.array(extra_slots, dtype=np.int64)])
    rows = np.concatenate([char_rows, shape_rows, np.array(extra_rows, dtype=np.int64)])
    return slots, rows


def logits(
    slots_weights: npt.NDArray[np.float32],
    bias: float,
    slots: npt.NDArray[np.int64],
    rows: npt.NDArray[np.int64],
    count: int,
) -> npt.NDArray[np.float64]:
    """Each row's logit: the sum of its slots' weights over the square root of its number of features."""
    sums = np.bincount(rows, weights=slots_weights[slots], minlength=count)
    return sums / np.sqrt(np.maximum(np.bincount(rows, minlength=count), 1)) + bias


WEIGHTS_PATH = files("level5.safety") / "data" / "postal_weights.json"


def encode(slots_weights: npt.NDArray[np.float32]) -> tuple[str, float]:
    """Weights as int8 (zlib, base64) and their scale: what the weights file stores."""
    scale = float(np.abs(slots_weights).max()) / 127 or 1.0
    quantised = np.clip(np.round(slots_weights / scale), -127, 127).astype(np.int8)
    return base64.b64encode(zlib.compress(quantised.tobytes(), 9)).decode(), scale


@functools.cache
def weights() -> Weights:
    """The committed weights (read once)."""
    document = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    quantised = np.frombuffer(zlib.decompress(base64.b64decode(document["weights"])), dtype=np.int8)
    return Weights(
        quantised.astype(np.float32) * np.float32(document["scale"]), document["bias"], document["threshold"]
    )


_VERDICTS: dict[tuple[str, str, str], bool] = {}
"""Verdicts on fields already asked about, across texts (bounded: cleared when full)."""
_MAX_VERDICTS = 50_000


def verdicts(fields: Sequence[tuple[str, str, str]], model: Weights) -> list[bool]:
    """Whether each (field, word before, word after) is an address; each distinct one asked once."""
    # Answers are read into a local dict first: redactions in other threads may clear the shared one
    # between this call's update and its reads.
    answers: dict[tuple[str, str, str], bool] = {}
    for field in fields:
        with contextlib.suppress(KeyError):
            answers[field] = _VERDICTS[field]
    new = [f for f in dict.fromkeys(fields) if f not in answers]
    if new:
        slots, rows = features(new)
        probabilities = 1 / (1 + np.exp(-logits(model.slots, model.bias, slots, rows, len(new))))
        fresh = dict(zip(new, (bool(p >= model.threshold) for p in probabilities), strict=True))
        answers.update(fresh)
        if len(_VERDICTS) + len(fresh) > _MAX_VERDICTS:
            _VERDICTS.clear()
        _VERDICTS.update(fresh)
    return [answers[f] for f in fields]


class Taken(Protocol):
    """A span the rules chose (``redaction.Span``): where, and its kind."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def kind(self) -> str: ...


def fields(text: str) -> list[tuple[int, int]]:
    """The fields of `text` that the model holds to be addresses, in order: found wherever the rules'
    detectors run (a detector of its own: ``redaction.py``), before the rules' spans are known."""
    found = candidates(text)
    if not found:
        return []
    asked = [(text[c.start : c.end], c.before, c.after) for c in found]
    return [(c.start, c.end) for c, yes in zip(found, verdicts(asked, weights()), strict=True) if yes]


def left_by(found: Sequence[tuple[int, int]], taken: Sequence[Taken]) -> list[tuple[int, int]]:
    """The `found` fields (in order) that the rules left: each overlaps no span in `taken` (sorted, disjoint)
    but ADDRESS spans it contains, which it widens."""
    starts = [span.start for span in taken]
    return [field for field in found if _free(field, taken, starts)]


def _free(field: tuple[int, int], taken: Sequence[Taken], starts: list[int]) -> bool:
    """Whether the field overlaps only ADDRESS spans that lie inside it, and is wider than them."""
    start, end = field
    i = bisect.bisect_right(starts, start) - 1
    if i >= 0 and taken[i].end <= start:
        i += 1
    i = max(i, 0)
    while i < len(taken) and taken[i].start < end:
        span = taken[i]
        if span.kind != "ADDRESS" or span.start < start or span.end > end:
            return False
        if (span.start, span.end) == field:
            return False
        i += 1
    return True
