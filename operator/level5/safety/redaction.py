"""Layer 5: output filtering. Finds PII and secrets in text and replaces them with stable placeholders.

Detected types: EMAIL, PHONE (libphonenumber, several regions; a bare national digit run only next to a
phone label), CREDIT_CARD (known issuer prefix and Luhn; Maestro from 12 digits), SSN (valid US
area/group/serial, and the national identity numbers of about 50 countries by their check digits:
``identity.py``), IBAN (mod-97, a greedy match that fails is retried shorter), IP_ADDRESS (v4 and v6,
checked by ``ipaddress``), PERSON and ADDRESS (by context: labels such as "Name:", "Customer", "Dear",
"ship to", "Address:", street-type words with a house number, postcode lines; in other scripts, their
own labels, titles and street words: ``scripts.py``; after them, a small model of what an address looks
like in any locale, on the delimited fields they left: ``postal.py``),
API keys and tokens with a known shape (AWS, GitHub, Slack, Stripe, Google, OpenAI, JWT, PEM private
keys, bearer tokens), values of secret-looking assignments (``password=``, ``"token": ...``) and
high-entropy strings.

A value becomes ``[TYPE:xxxxxxxx]`` where the suffix comes from HMAC-SHA256(key, type + value): the same
value gets the same placeholder everywhere in a task (so the model and a reader can still tell "the same
address again" from "another one") without the operator keeping a table, so it survives restarts. A
placeholder reveals nothing without the key.

Decisions on look-alikes (false positives cost readable output): a dotted quad right after a version
word (``version 1.2.3.4``, ``v1.2.3.4``, ``==1.2.3.4``) is a version, not an address; UUIDs are
identifiers, not secrets; a hex digest labelled as a hash (``sha256: ...``, ``commit ...``, the
``sha256sum`` ``<digest>  <file>`` layout) is kept, since it is derived from content and redacting it
breaks code and git references, while an unlabelled long hex string is treated as a possible secret.
A digit group after letters or an id label (``ORD-2024-000123``, ``SKU 4006381333931``) is part of an
id, never a phone or card number. Nor is a chemical's CAS registry number (its check digit, python-stdnum's
``casrn``), a citation's page range after its volume (``323, 2052-2059``) or before an opened bracket
(``357-362 (2020)``), or a long postcode in its place in an address (a Brazilian CEP between its comma
and town, a US ZIP+4 after its state). Capitalised words followed by a version or a model code (``Rocky
Linux 9``, ``Mac Studio M2 Ultra``) name a product, not a person. Values printed by position, under a
column list given once (an SQL ``INSERT``, a ``COPY`` block), are keyed by their column (``positional.py``).

Microsoft Presidio was weighed for names and addresses: its PERSON and LOCATION recognisers are spaCy
NER models, which cannot be downloaded at run time here and would add hundreds of MB to the operator
image; its pattern recognisers cover what the detectors below already do. So people and places are
found by context, and a second opinion can come from a model endpoint (layer 1's classifier hook).

Speed: each detector is one regular-expression pass over the text that yields candidates; only
candidates are validated (checksums, libphonenumber, ``ipaddress``); overlaps are resolved by one sort
and one sweep. The time is linear in the input. Verdicts that are pure functions of a string (a phone
candidate, an identity number after its label, a CSV header's columns) are kept rather than asked again;
so are those that read a bounded piece of text around a candidate (a phone number's 24 characters
before it, a name's rest of its line), keyed by that piece. Long alternations are searched behind a
look-ahead for their first letters (``lead``), and runs of word characters that what follows cannot
continue are taken possessively, so Python's re does not try every alternative or backtrack at every
place. The cyclic garbage collector is paused while a text is redacted (``Redactor.redact``).
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import gc
import hashlib
import hmac
import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from importlib.resources import files
from itertools import chain
from operator import itemgetter
from typing import NamedTuple

import phonenumbers
from pydantic import BaseModel
from stdnum import casrn

from level5.safety import (
    credentials,
    divisions,
    fields,
    identifiers,
    identity,
    interchange,
    letters,
    mailboxes,
    numerals,
    positional,
    postal,
    scripts,
    servers,
)
from level5.safety.lines import COLUMN_GAP, NEAR, line_index
from level5.safety.placeholders import PLACEHOLDER
from level5.safety.prefilter import Hits, Literals, Prefilter, Trigger, Words

PHONE_REGIONS = ("DE", "US", "GB", "FR", "JP", "IN", "ES")
"""Where a national number may be from. A candidate is a number when any of them accepts it, so their
order changes only the cost. Germany's plan (national numbers of 4 to 15 digits; the others 7 to 10,
but Japan's and India's) accepts most of what any of them accepts: two in three to three in four of the
candidates in the benchmark's texts, so it is asked first. With the United States first, a candidate
took 3.4 parses (about 18 µs each) on average on the text without repeated numbers; with Germany first,
2.2."""
# libphonenumber's metadata patterns would otherwise fall out of the re module's bounded cache and be
# compiled again on every parse (a third of redaction's time on a megabyte of log text).
phonenumbers.enable_pattern_cache()
# libphonenumber reads a region's metadata (a Python module per region) on the first number it meets from
# there, inside a redaction: an international number from anywhere may come up, so every region's is read
# once, at import (about 35 ms), rather than in the first redactions of a task (40 ms of a 4 MB output's).
for _region in phonenumbers.SUPPORTED_REGIONS:
    phonenumbers.PhoneMetadata.metadata_for_region(_region)
for _code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
    phonenumbers.PhoneMetadata.metadata_for_nongeo_region(_code)
MIN_PHONE_DIGITS = 8
"""Shorter numbers are local extensions or postcodes more often than numbers that identify a person."""
MAX_PHONE_DIGITS = 15
"""E.164's longest number."""
APP_SALT = b"level5-redaction-v1"
"""Mixed into every task key so placeholders differ from any other product using the same scheme."""


class Redaction(BaseModel):
    """Redacted text and how many values of each type were replaced."""

    text: str
    counts: dict[str, int]


class Span(NamedTuple):
    """A detected value: [start, end) in the text, its type, and how strongly it outranks overlaps. (A
    tuple: thousands are made per MB, and a frozen dataclass costs three times as much to make.)"""

    start: int
    end: int
    kind: str
    priority: int


class Detector(NamedTuple):
    """A detector: where it looks (the triggers whose hits it reads), and about what it costs: CPU ms per MB
    of the benchmark's mixed text and of its unrepeated text (``safety_eval.mixed_text``,
    ``unrepeated_text``)."""

    find: Callable[[str, Hits], Iterator[Span]]
    triggers: tuple[str, ...]
    cost: tuple[int, int]


_LOWER_PIECE = 65_536


def _pieces(text: str) -> Iterator[str]:
    """The text in pieces of about `_LOWER_PIECE` characters, each ended after a line break (or a space) so
    that lower-casing them one by one gives the text's own lower case.

    str.lower of a whole text writes a buffer of three times its length in its widest kind before it shrinks
    it (48 MB for 4 MB of output with one emoji in it), out of the CPU's caches: by pieces it takes a quarter
    less time. Lower-casing maps each character on its own but for the final sigma, whose context (a cased
    letter before, none after) does not reach across a line break or a space."""
    start = 0
    while start < len(text):
        # Looked for within the next piece only, so a long line stays linear; none there: the rest is one.
        least, reach = start + _LOWER_PIECE, start + 2 * _LOWER_PIECE
        end = text.find("\n", least, reach) + 1 or text.find(" ", least, reach) + 1 or len(text)
        yield text[start:end]
        start = end


_last_lowered: tuple[str, str] = ("", "")


def _lowered(text: str) -> str:
    """The text in lower case, offset for offset; one per text, shared by the detectors. The last one is
    kept by identity: comparing a megabyte of text for a cache hit would cost more than a search."""
    global _last_lowered
    last = _last_lowered
    if last[0] is text:
        return last[1]
    # "İ" is the one character whose lower case is longer ("i" and a combining dot): it becomes the "i"
    # that (?i) matches it with. Before, one "İ" anywhere sent every caseless pattern to its (?i) form,
    # three to four times slower (round 3's Turkish text put one in the benchmark's text).
    lower = "".join([piece.lower() for piece in _pieces(text.replace("\u0130", "i"))])
    _last_lowered = (text, lower)
    return lower


class _Caseless:
    """A case-insensitive pattern (written in lower case) matched case-sensitively on the lower-cased
    text, several times faster in Python's re than (?i); offsets are the text's own, so values are sliced
    from the original."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.compiled = re.compile(pattern, flags)

    def finditer(self, text: str, pos: int, endpos: int) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(_lowered(text), pos, endpos)


Searchable = re.Pattern[str] | _Caseless


def lead(words: Iterable[str]) -> str:
    """A look-ahead for the first two characters of `words` (their first two characters literal; a space
    second may also be written as another join, as ``identity.label_pattern`` writes it), to put before an
    alternation that starts with one of them. It holds wherever one of them starts, so the pattern's
    matches are the same; but Python's re tries every alternative in turn at each place it searches
    (hundreds of labels: about a microsecond a place), where the look-ahead fails there in one step."""
    firsts: set[str] = set()
    seconds: set[str] | None = set()
    for word in words:
        firsts.add(word[0])
        if seconds is not None:
            if len(word) < 2 or (word[1] == " " and (len(word) < 3 or word[2] == " ")):
                seconds = None  # anything may come second: the first character alone is checked
            else:
                seconds.update(f" _.-{word[2]}" if word[1] == " " else word[1])
    second = "" if seconds is None else f"[{''.join(map(re.escape, sorted(seconds)))}]"
    return f"(?=[{''.join(map(re.escape, sorted(firsts)))}]{second})"


def _matches(
    pattern: Searchable,
    text: str,
    spans: list[tuple[int, int]],
    back: int = 0,
    lines: int = 0,
    needle: re.Pattern[str] | None = None,
    reach: int | None = None,
) -> Iterator[re.Match[str]]:
    """The matches of `pattern` that a trigger points at, as ``finditer`` would yield them: for each
    trigger match not inside the previous value, the matches of a search from `back` characters before
    it to the end of its line and `lines` more lines (-1: to the end of the text) that start before the
    trigger ends (a trigger without a tracked start points at a window, which may hold more than one).

    A `needle` is a pattern without look-arounds that every match of `pattern` holds (matched on the same
    string): where it is not in the window, neither is a match, and the costlier search is not made.

    A `reach` is how far past its trigger's end a match (its look-aheads included) can go: the search
    stops there instead of at the line's end. Where the pattern fails at the trigger, a search to the line's
    end would run on to the next match, which on one long line is a scan of the text per such hit."""
    # The compiled pattern and the string it reads, resolved once rather than per trigger hit.
    search = pattern.compiled.search if isinstance(pattern, _Caseless) else pattern.search
    subject = _lowered(text) if isinstance(pattern, _Caseless) else text
    last = 0
    # The last search (from, to, its leftmost match and where that starts, past any position when there
    # is none): no match starts between `from` and that match, so a later trigger whose search would
    # start in between gets the same answer without searching again.
    known_from, known_stop, known, known_at = -1, -1, None, len(text) + 1
    # A line's end is searched for near the hit, else found by bisection: a search to the next newline
    # per hit was quadratic on one long line. (Inlined: ``LineIndex.end``'s first step, per hit.)
    find, line_end = text.find, line_index(text).end
    # The last line end found, and where its search started: no newline lies between, so a hit ending
    # there shares it (hits come in text order, several to a line).
    searched, found = -1, -1
    for start, end in spans:
        if end <= last:
            continue
        if lines < 0:
            stop = len(text)
        else:
            if searched <= end <= found:
                stop = found
            else:
                stop = find("\n", end, end + NEAR)
                stop = line_end(end) if stop < 0 else stop
                searched, found = end, stop
            for _ in range(lines) if lines else ():  # the common case (0) without the loop
                if stop >= len(text):
                    break
                stop = line_end(stop + 1)
        if reach is not None and end + reach < stop:
            stop = end + reach
        pos = last if last > start - back else start - back
        if not (known_stop == stop and known_from <= pos <= known_at):
            known = (
                search(subject, pos, stop) if needle is None or needle.search(subject, pos, stop) else None
            )
            known_from, known_stop = pos, stop
            known_at = len(text) + 1 if known is None else known.start()
        # (Locals rather than the match's methods, per hit: about 19,000 hits per MB.)
        while known is not None and known_at < end:
            last = known.end()
            yield known
            if last >= end:
                break
            known = search(subject, last + (last == known_at), stop)  # past an empty match
            known_from, known_stop = last, stop
            known_at = len(text) + 1 if known is None else known.start()


def task_key(task_uid: str, operator_secret: bytes = b"") -> bytes:
    """The HMAC key of one task: stable across operator restarts, different for every task."""
    return hashlib.sha256(APP_SALT + operator_secret + b"\0" + task_uid.encode()).digest()


# -- checksums ---------------------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a digit string (payment cards)."""
    # Every second digit from the right is doubled (its digits summed: _LUHN_DOUBLED), the others taken
    # as they are: two slices and two sums, a third of the time of a loop over the digits.
    doubled = sum(_LUHN_DOUBLED[int(ch)] for ch in digits[-2::-2])
    return (sum(map(int, digits[-1::-2])) + doubled) % 10 == 0


_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
"""A digit doubled, less 9 when that makes two digits."""


_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")


def iban_ok(iban: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN without spaces."""
    if not _IBAN_SHAPE.fullmatch(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """US SSN ranges: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


def shannon_entropy(text: str) -> float:
    """Bits per character of the text's own character distribution."""
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in Counter(text).values())


# -- detectors ---------------------------------------------------------------------------------------------


_DER_KEY_HEADER = (
    r"M[A-Za-z0-9+/]{2}CAQ(?:Aw|EE)|MIG[A-Za-z0-9+/]AgE(?:AM|BB)|MII[A-Za-z0-9+/]{3}IBA(?:DANBgkq|AKC)"
)
# Shapes of well-known credentials; the vendor prefixes make these precise, so they outrank the rest.
_TOKEN_SHAPES: tuple[tuple[str, str], ...] = (
    ("AWS_ACCESS_KEY", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b"),
    ("GITHUB_TOKEN", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    # (And a rotated token's refresh or access form: "xoxe-1-...", "xoxe.xoxp-1-...".)
    # (And an app-level token, "xapp-1-...", which opens Socket Mode connections.)
    ("SLACK_TOKEN", r"\b(?:(?:xoxe\.)?xox[abprse]|xapp)-[A-Za-z0-9-]{10,}"),
    # (And a webhook endpoint's signing secret, "whsec_...", which forges Stripe's events.)
    ("STRIPE_KEY", r"\b(?:(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})"),
    ("GOOGLE_API_KEY", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("OPENAI_KEY", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
    ("JWT", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,}"),
    # A key block, or its start when the output was cut off before the END line.
    (
        "PRIVATE_KEY",
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s:-]*)",
    ),
    # A key's DER in base64 without its PEM lines (an environment variable, a JSON field), known by its
    # ASN.1 header: a SEQUENCE whose first element is the version, 0 or 1, then the algorithm (PKCS #8:
    # Ed25519's "MC4CAQAw", EC's "MIGHAgEAMBMG", RSA's "MII...IBADANBgkq") or the key (SEC1's "MHcCAQEE",
    # PKCS #1's "MII...IBAAKC"); the digits between encode the lengths.
    (
        "PRIVATE_KEY",
        rf"\b(?:{_DER_KEY_HEADER})[A-Za-z0-9+/]{{40,}}={{0,2}}",
    ),
)

_CREDENTIAL_NAMES = credentials.CREDENTIAL_NAMES
# key = value, key: value, "key": "value", KEY=value; the key must *end* in a secret word, so
# max_tokens=100 or password_hash=... are left alone.
_ASSIGNMENT = _Caseless(
    rf"(?:{_CREDENTIAL_NAMES})[\"']?[ \t]*(?::=|=>|[:=])\s*"
    r"(?:\"(?P<dq>[^\"\n]{4,})\"|'(?P<sq>[^'\n]{4,})'|(?P<bare>[^\s\"',;)\]}]{4,}))"
)
_NOT_A_SECRET = re.compile(
    r"(?i)^(?:none|null|nil|true|false|undefined|required|optional|string|str|bytes|int|env|"
    r"\*+|x+|\.+|<[^>]*>|\$\{?\w+\}?|%\(?\w+\)?s?|\{\{?[^}]*\}\}?)$"
)
# A password in a URL's user information ("postgresql+psycopg2://app:<password>@db:5432/shop"): it
# outranks the e-mail address that "<password>@host" looks like (88), not a token's shape (90).
_URL_PASSWORD = re.compile(r"(?<![\w+.-])[A-Za-z][\w+.-]*://[^\s/:@]*:(?P<password>[^\s/@]{3,})@")
_CALL_OR_INDEX = re.compile(r"[(\[]")
_ATTRIBUTE_CHAIN = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+")
_BEARER = _Caseless(r"\b(?:bearer|basic|token)\s+([a-z0-9._~+/=-]{16,})", re.ASCII)
# (The first character before the look-behind, so a search skips to candidates in one scan; the local
# part possessively: "@" ends it and is not in it.)
# (Or a local part in quotes, which may hold what a bare one may not: "ann..lee"@example.org.)
_EMAIL = re.compile(
    r"(?:\"[^\"\s@\\]{1,64}\"|[A-Za-z0-9](?<![\w.+-].)[A-Za-z0-9._%+-]*+)@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b"
)
# A VERP return path: a list's or a sender's bounce address whose local part encodes the recipient's
# address after a "+", its "@" written "=" (bounces+ann.lee=example.org@lists.example.net). The recipient
# is the person's address, though the bounce mailbox is a role's; it outranks the address that a plain
# search finds from the "=" on.
_VERP = re.compile(
    r"\+(?P<recipient>[A-Za-z0-9._%-]+=[A-Za-z0-9.-]+\.[A-Za-z]{2,24})@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b"
)
# An address percent-encoded in a URL's query ("%40" for "@", "%2B" for "+"): it starts at a boundary or
# right after another escape ("%3D" for "=" before it).
_URL_EMAIL = re.compile(
    r"(?:(?<![\w.+%-])|(?<=%[0-9A-Fa-f]{2}))[A-Za-z0-9](?:[A-Za-z0-9._+-]|%2[Bb])*+%40"
    r"(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b"
)
# An address disguised against scrapers: "name [at] host [dot] tld", with brackets, parentheses or braces.
# (A plain dot only unspaced: "me [at] home. Then" is a sentence.)
_AT, _SPELLED_DOT = r"[\[({]at[\])}]", r"[ \t]*[\[({]dot[\])}][ \t]*"
_DOT_SEPARATOR = rf"(?:{_SPELLED_DOT}|\.)"
_DISGUISED_EMAIL = _Caseless(
    # (The local part's dots spelled too: "ann(dot)lee(at)example(dot)org".)
    rf"(?<![\w.+-])[a-z0-9][a-z0-9._+-]*(?:{_SPELLED_DOT}[a-z0-9_+-]+)*"
    rf"[ \t]*{_AT}[ \t]*[a-z0-9-]+(?:{_DOT_SEPARATOR}[a-z0-9-]+)*{_DOT_SEPARATOR}[a-z]{{2,24}}\b"
)
# Patterns searched from trigger hits open with their first character as a class, and what may not come
# before it is checked after it (a look-behind one character wider): Python's re then skips to the places
# where a match can start in one pass over the window. A pattern that opens with a look-around or an
# alternation is tried at every position (these searches took a fifth longer so; the plainer forms are
# kept in tests/unit/test_search_prefixes.py, which holds each pattern to the same matches).
# (Underscores too: a card number glued into a cache key or a file name, tokenize_4111_1111_1111_1111.)
_CARD = re.compile(r"\d(?<![\d-].)(?:[ _-]?\d){11,18}(?![\d-])", re.ASCII)
# Four groups of four digits split by dots, as some decoders print a card's number (no version or address
# has four parts of four digits).
_DOTTED_CARD = re.compile(r"(?<![\d.])\d{4}(?:\.\d{4}){3}(?![\d.])", re.ASCII)
_IBAN_MIN = 15
"""Norway's IBAN, the shortest."""
_MAESTRO_PREFIX = re.compile(r"^(?:50[0-9]|5[6-8]|6(?:304|39|7)|0604)")
_CARD_PREFIX = re.compile(r"^(?:4|5[0-8]|2[2-7]|2131|1800|3[0-8]|6|0604)")
_CARD_SEPARATOR = re.compile(r"[ _-]")
_SSN = re.compile(r"(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])", re.ASCII)
_SSN_LABELLED = _Caseless(r"\b(?:ssn|social security(?: number| no\.?)?)\D{0,12}(\d{3})(\d{2})(\d{4})\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", re.ASCII)
_IPV4 = re.compile(r"\d(?<![\w.].)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\w]|\.\d)", re.ASCII)
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})(?![\w:])", re.ASCII
)
_HEX_LETTER_OR_GAP = re.compile(r"[a-fA-F]|::")
# The commonest look-alikes of a phone number in program output (log timestamps, coordinates): a date
# anywhere in the digit group, or the group being one decimal number. One search tests both.
_DATE_OR_DECIMAL = re.compile(
    r"\b(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2})\b|\A\d+[.,]\d+\Z", re.ASCII
)
_GLUED_BEFORE = re.compile(r"[\w:]$|\d[ -]$")
_DIGIT_PAIRS = re.compile(r"\d\d([. -])\d\d(?:\1\d\d){3}")
# Digit groups within one line; ASCII classes keep the scan a byte-map lookup per character.
_PHONE_CANDIDATE = re.compile(
    # A "+", a "(" or a digit, not glued to a word or a "+"; then by what it was, the rest of the group, with
    # at least eight digits ahead in all (checked before the match).
    r"[+(\d](?<![\w+].)"
    r"(?:(?<=\+)(?=(?:[ ().\-/]{0,2}\d){8}) ?(?:\(\d{1,5}\)[ .-]?)?\d"
    r"|(?<=\()(?=(?:[ ().\-/]{0,2}\d){8})\d{1,5}\)[ .-]?\d"
    r"|(?<=\d)(?=(?:[ ().\-/]{0,2}\d){7}))"
    r"[0-9 ().\-/]{5,22}\d(?: ?x\d{1,5})?",
    re.ASCII,
)
_NON_DIGITS = re.compile(r"\D+")
# The postcodes long enough to parse as a phone number, where a one-line address writes them: Brazil's CEP
# (5-3) between a comma and its town, a US ZIP+4 after its state's code.
_CEP = re.compile(r"\d{5}-\d{3}")
_ZIP4 = re.compile(r"\d{5}-\d{4}")
_COMMA_BEFORE = re.compile(r",[ \t]\Z")
_STATE_BEFORE = re.compile(r"(?<![\w-])[A-Z]{2}[ \t]\Z")
_TOWN_AFTER = re.compile(r"[ \t]+(?:d[aeo]s?[ \t]+)?[^\W\d_a-z]")


def _long_postcode(text: str, start: int, end: int, raw: str) -> bool:
    """Whether an unlabelled candidate is a CEP or a ZIP+4 in its place in an address."""
    if _CEP.fullmatch(raw):
        return bool(_COMMA_BEFORE.search(text, max(0, start - 2), start) and _TOWN_AFTER.match(text, end))
    zip_code = _ZIP4.fullmatch(raw) is not None
    return zip_code and _STATE_BEFORE.search(text, max(0, start - 4), start) is not None


# A CAS registry number (a chemical's): 2 to 7 digits, 2, and a check digit (stdnum.casrn checks it).
_CAS_SHAPE = re.compile(r"\d{2,7}-\d{2}-\d")
_SSN_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}")
_PHONE_LABEL_WORDS = (
    r"tel|tél|phone|telephone|téléphone|telefon|teléfono|mobile|mobil|handy|portable|fax|cell"
)
_PHONE_LABEL = re.compile(
    rf"(?i)(?:\b(?:{_PHONE_LABEL_WORDS})\b|電話)"
    r"\.?(?:\s*(?:no|nr|number|nummer)\.?)?\s*[:=]?\s*$"
)
# A letter, an id label or an id's own separator run right before a digit group makes it part of an id.
_ID_PREFIX = re.compile(
    r"(?i)(?:[a-z][a-z0-9]*[-_#/]|\b(?:order|invoice|ticket|case|po|id|no|nr|ref|request|batch|sku|isbn|shipment|build|"
    r"serial|lot|pp\.?|pages?)\s*[#:]?\s*)$"
)
_GLUED_AFTER = re.compile(r"[\w:]|[.,]\d|[ -]\d")
_SEPARATED = re.compile(r"\d[\s().\-/]+\d")
_VERSION_BEFORE = re.compile(r"(?i)(?:\bv|\bversion\s*|\bver\.?\s*|\brelease\s*|==|>=|<=|~=|@)$")
_BASE64ISH = re.compile(r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_-]{20,}={0,2}(?![A-Za-z0-9+/_=-])", re.ASCII)
_WORD_PIECES = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_HEXISH = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])", re.ASCII)
_HASH_LABEL = re.compile(
    r"(?i)(?:sha-?(?:1|224|256|384|512)?|md5|blake2?b?|digest|hash|checksum|commit|rev(?:ision)?|"
    r"etag|integrity|fingerprint|object|tree|parent|oid)\b[^\n]{0,24}$"
)
_SHA_SUM_LINE = re.compile(r"^ [ *]\S")
# The longest _HASH_LABEL match: its longest word ("fingerprint", 11) and 24 characters after it.
_HASH_LABEL_REACH = 40


# One alternation, one pass over the text: group i+1 is the i-th shape.
_TOKENS = re.compile("|".join(f"({pattern})" for _, pattern in _TOKEN_SHAPES), re.ASCII)


def _tokens(text: str, hits: Hits) -> Iterator[Span]:
    found = chain(_matches(_TOKENS, text, hits["token"]), _matches(_TOKENS, text, hits["pem"], lines=-1))
    for m in found:
        yield Span(m.start(), m.end(), _TOKEN_SHAPES[(m.lastindex or 1) - 1][0], 90)


def _emails(text: str, hits: Hits) -> Iterator[Span]:
    for m in _matches(_EMAIL, text, hits["email"], back=64):
        if not mailboxes.role(m.group()):
            yield Span(m.start(), m.end(), "EMAIL", 88)
    for m in _matches(_VERP, text, hits["email"], back=64):
        yield Span(m.start("recipient"), m.end("recipient"), "EMAIL", 89)
    for m in _matches(_URL_EMAIL, text, hits["url_email"], back=64):
        yield Span(m.start(), m.end(), "EMAIL", 88)
    for m in _matches(_DISGUISED_EMAIL, text, hits["disguised_email"], back=64):
        yield Span(m.start(), m.end(), "EMAIL", 88)


def _assignments(text: str, hits: Hits) -> Iterator[Span]:
    for m in _matches(_ASSIGNMENT, text, hits["assignment"]):
        group = next(g for g in ("dq", "sq", "bare") if m.group(g) is not None)
        value = text[m.start(group) : m.end(group)]
        # Code, not data: a call, an index, an attribute chain of a variable, or a placeholder.
        if _NOT_A_SECRET.match(value) or PLACEHOLDER.fullmatch(value) or _CALL_OR_INDEX.search(value):
            continue
        if group == "bare" and _ATTRIBUTE_CHAIN.fullmatch(value):
            continue
        kind = "PRIVATE_KEY" if credentials.private_key_named(text[m.start() : m.start(group)]) else "SECRET"
        yield Span(m.start(group), m.end(group), kind, 70)
    # The scheme before "://" (at most 40 characters) is before the trigger's window; a match ends at "@".
    for m in _matches(_URL_PASSWORD, text, hits["url_password"], back=40, reach=0):
        value = m.group("password")
        if not (_NOT_A_SECRET.match(value) or PLACEHOLDER.fullmatch(value)):
            yield Span(m.start("password"), m.end("password"), "SECRET", 89)
    for m in _matches(_BEARER, text, hits["bearer"]):
        yield Span(m.start(1), m.end(1), "BEARER_TOKEN", 75)


_CONFIGURED = (
    ("credential_element", credentials.ELEMENT),
    ("credential_directive", credentials.DIRECTIVE),
    ("pgpass", credentials.PGPASS),
    ("credential_option", credentials.OPTION),
)


def _configured_credentials(text: str, hits: Hits) -> Iterator[Span]:
    """Passwords in an XML element, a directive line, a .pgpass line or a command line's option
    (``credentials.py``)."""
    for trigger, pattern in _CONFIGURED:
        for m in _matches(pattern, text, hits[trigger]):
            found = credentials.value_span(m)
            if found is not None and not (
                _NOT_A_SECRET.match(text[slice(*found)]) or PLACEHOLDER.fullmatch(text[slice(*found)])
            ):
                yield Span(*found, "SECRET", 70)


def _interchange_names(text: str, hits: Hits) -> Iterator[Span]:
    """People in HL7 v2 segments and LDAP distinguished names, people and addresses in EDIFACT segments
    (``interchange.py``)."""
    for m in _matches(interchange.SEGMENT, text, hits["hl7_segment"]):
        for start, end in interchange.segment_names(m):
            yield Span(start, end, "PERSON", 45)
    for m in _matches(interchange.COMMON_NAME, text, hits["ldap_dn"]):
        yield Span(m.start("value"), m.end("value"), "PERSON", 45)
    for m in _matches(interchange.EDIFACT_SEGMENT, text, hits["edifact_segment"]):
        for start, end, kind in interchange.edifact_values(m):
            yield Span(start, end, kind, 45)


def _card_number(raw: str) -> bool:
    """Whether a candidate digit group, by its characters alone, is a payment card number."""
    digits = _NON_DIGITS.sub("", raw)
    if not 12 <= len(digits) <= 19:  # no card is shorter or longer: the cheapest test first
        return False
    groups = _CARD_SEPARATOR.split(raw)
    # Separators, when present, split the number into card-like groups (4-4-4-4, 4-6-5...).
    # Or two halves of eight, as some terminals and card forms print them. Underscores are not mixed with
    # other separators (a snake_case name's pieces are no card's groups).
    grouped = (
        len(groups) == 1
        or (len(groups) <= 5 and all(3 <= len(g) <= 6 for g in groups))
        or (len(groups) == 2 and len(groups[0]) == len(groups[1]) == 8)
    ) and ("_" not in raw or raw.count("_") == len(groups) - 1)
    # Maestro numbers may be as short as 12 digits; every other scheme has 13 to 19.
    shortest = 12 if _MAESTRO_PREFIX.match(digits) else 13
    return shortest <= len(digits) <= 19 and grouped and bool(_CARD_PREFIX.match(digits)) and luhn_ok(digits)


def _cards(text: str, hits: Hits) -> Iterator[Span]:
    # The same digit groups recur in program output: a group's verdict is asked once per text.
    verdicts: dict[str, bool] = {}
    for m in _matches(_CARD, text, hits["card"]):
        raw = m.group()
        verdict = verdicts.get(raw)
        if verdict is None:
            verdict = verdicts[raw] = _card_number(raw)
        # The id-prefix test (a search through the characters before) goes last: most candidates fail a
        # cheaper test first. A number grouped by underscores is a card's groups glued into a key
        # (tokenize_4111_1111_...), which the prefix is then a part of.
        if verdict and ("_" in raw or not _ID_PREFIX.search(text[max(0, m.start() - 12) : m.start()])):
            yield Span(m.start(), m.end(), "CREDIT_CARD", 80)
    for m in _matches(_DOTTED_CARD, text, hits["dotted_card"]):
        if _card_number(m.group().replace(".", " ")):
            yield Span(m.start(), m.end(), "CREDIT_CARD", 80)


def _ssns(text: str, hits: Hits) -> Iterator[Span]:
    for pattern, trigger in ((_SSN, "ssn"), (_SSN_LABELLED, "ssn_label")):
        for m in _matches(pattern, text, hits[trigger]):
            area, group, serial = (m.group(i) for i in ((1, 3, 4) if pattern is _SSN else (1, 2, 3)))
            if ssn_ok(area, group, serial):
                start = m.start() if pattern is _SSN else m.start(1)
                yield Span(start, m.end(), "SSN", 78)


# National identity numbers (``identity.py``, python-stdnum): under a label that names one, any of the
# formats; without one, only the shapes that a format prints and little else has. Filed under SSN, the
# redactor's one kind for identity numbers.
# Labels that start with a Latin-1 letter are found by the prefilter (a letter outside Latin-1 is "?" to
# it: "rodné ?íslo"); the others by the search over non-ASCII text below (_SCRIPT_WORDS).
_LATIN1_IDENTITY_LABELS = frozenset(w for w in identity.LABELS if ord(w[0]) < 256)
_IDENTITY_LABEL = _Caseless(
    rf"{lead(_LATIN1_IDENTITY_LABELS)}(?<![^\W_])(?:{identity.label_pattern(_LATIN1_IDENTITY_LABELS)})(?![^\W_])"
)
_IDENTITY_TRIGGER = identity.label_pattern(
    frozenset(w.encode("latin-1", "replace").decode("latin-1") for w in _LATIN1_IDENTITY_LABELS)
)
# (Closing brackets and a full-width colon too: a label's bracketed gloss ends before the value, as in
# Japanese "個人番号" followed by "マイナンバー" in full-width brackets.)
_IDENTITY_VALUE = re.compile(
    r"[ \t\"'»«:=#№°>(\[,)\uff09\uff1a-]{0,8}(?:(?:no|nr|n°|nº)\.?[ \t:]*)?"
    r"([A-Za-z0-9](?:[A-Za-z0-9]|[ ./-](?=[A-Za-z0-9])){5,24})"
)
_DIGIT = re.compile(r"\d")
_IDENTITY_PRIORITY = 79
"""Above a phone number (a CPF or an AHV number parses as one), below a card."""


# One word that qualifies a label before its colon: whose number it is ("NIF adquirente:", "Tax ID buyer:").
_LABEL_QUALIFIER = re.compile(r"[ \t]+[^\W\d_]{2,20}[ \t]*:")


def _identity_after(text: str, label: str, label_end: int) -> Span | None:
    """The identity number right after a label (or after the word qualifying it): the value, or the value
    less its last words (the sentence may go on: "SIN 046 454 286 on file"), that a format validates."""
    qualifier = _LABEL_QUALIFIER.match(text, label_end)
    if qualifier is not None:
        found = _identity_at(text, label, qualifier.end())
        if found is not None:
            return found
    return _identity_at(text, label, label_end)


def _identity_at(text: str, label: str, label_end: int) -> Span | None:
    m = _IDENTITY_VALUE.match(text, label_end)
    if m is None:
        return None
    value = m.group(1)
    while True:
        # Words without a digit at the end are the sentence going on, not part of the number.
        while " " in value and not _DIGIT.search(value.rsplit(" ", 1)[1]):
            value = value.rsplit(" ", 1)[0]
        if identity.labelled_valid(value, label):
            return Span(m.start(1), m.start(1) + len(value), "SSN", _IDENTITY_PRIORITY)
        if " " not in value:
            return None
        value = value.rsplit(" ", 1)[0]


def _identities(text: str, hits: Hits) -> Iterator[Span]:
    for m in _matches(_IDENTITY_LABEL, text, hits["identity_label"]):
        span = _identity_after(text, m.group(), m.end())
        if span is not None:
            yield span
    for m in _matches(identity.SEMANTICS, text, hits["semantics_id"]):
        if identity.semantics_valid(m.group("country"), m.group("value")):
            yield Span(m.start("value"), m.end("value"), "SSN", _IDENTITY_PRIORITY)
    # A shape's answer reads the 16 characters before it and the hit itself: kept for the same text there.
    shapes: dict[tuple[str, int], tuple[int, int] | None] = {}
    for start, end in hits["identity_shape"]:
        first, stop = max(0, start - 16), min(len(text), end + 2)
        context = (text[first:stop], start - first)
        if context in shapes:
            found = shapes[context]
        else:
            found = shapes[context] = _shape_after(text, start, stop)
        if found is not None:
            yield Span(start + found[0], start + found[1], "SSN", _IDENTITY_PRIORITY)


def _shape_after(text: str, start: int, stop: int) -> tuple[int, int] | None:
    """Where, from `start`, the first identity-number shape before `stop` that its formats validate
    starts and ends, unless an id prefix precedes it."""
    # The id-prefix search first: it costs a microsecond, a shape's checksums ten or more.
    if _ID_PREFIX.search(text[max(0, start - 16) : start]):
        return None
    shape = identity.shape_at(text, start, stop)
    return None if shape is None else (shape.start() - start, shape.end() - start)


def _ibans(text: str, hits: Hits) -> Iterator[Span]:
    ends: dict[str, int | None] = {}  # a recurring candidate's answer, asked once per text
    for m in _matches(_IBAN, text, hits["iban"]):
        # The greedy match may have swallowed a following code ("... 0130 00 BIC"): when the checksum
        # fails, shorter prefixes ending on an alphanumeric are tried, longest first.
        candidate = m.group()
        if candidate in ends:
            end = ends[candidate]
        else:
            end = ends[candidate] = _iban_end(candidate)
        if end is not None:
            yield Span(m.start(), m.start() + end, "IBAN", 85)


def _iban_end(candidate: str) -> int | None:
    """The end of the longest prefix of an _IBAN match (at least _IBAN_MIN characters, ending on an
    alphanumeric) that ``iban_ok`` accepts. One pass computes the mod-97 remainder of every prefix, where
    checking each prefix anew cost a big-integer conversion per prefix (a match whose checksum fails,
    the common case in program output, tried about 20)."""
    # The match is two capitals, two digits, then capitals and digits with single spaces between them;
    # without spaces, the characters after the first four, read as iban_ok reads them, and their
    # remainder after each one.
    head = int(f"{int(candidate[0], 36)}{int(candidate[1], 36)}{candidate[2:4]}")
    remainder, length, remainders = 0, 4, [0] * (len(candidate) + 1)
    for end in range(4, len(candidate)):
        char = candidate[end]
        if char != " ":
            remainder = (remainder * (10 if char.isdigit() else 100) + int(char, 36)) % 97
            length += 1
        # The remainder of the rearranged IBAN: these characters, then the first four (six digits).
        remainders[end + 1] = (remainder * 1_000_000 + head) % 97 if 15 <= length <= 34 else 0
    for end in range(len(candidate), _IBAN_MIN - 1, -1):
        if candidate[end - 1] != " " and remainders[end] == 1:
            return end
    return None


def _ips(text: str, hits: Hits) -> Iterator[Span]:
    found: list[tuple[int, int, str]] = []
    for m in _matches(_IPV4, text, hits["ipv4"]):
        if _VERSION_BEFORE.search(text[max(0, m.start() - 12) : m.start()]):
            continue
        if (
            _valid_ip(m.group())
            and not _network(text, m.end(), m.group())
            and not servers.cluster_cell(text, m.start(), m.end(), m.group())
        ):
            found.append((m.start(), m.end(), m.group()))
    for m in _matches(_IPV6, text, hits["ipv6"]):
        candidate = m.group()
        # Times (12:30:45), C++/Rust paths (a::b) and MAC-like digit runs are not addresses.
        hex_groups = sum(1 for g in candidate.split(":") if g)
        if (
            (hex_groups >= 3 or "::" in candidate)
            and _HEX_LETTER_OR_GAP.search(candidate)
            and _valid_ip(candidate)
        ):
            found.append((m.start(), m.end(), candidate))
    if not found:
        return
    located = [(start, address) for start, _, address in found]
    machines = servers.named_servers(text, located) | servers.route_hops(text, located)
    for start, end, address in found:
        if address not in machines and not servers.machine_role(text, start):
            yield Span(start, end, "IP_ADDRESS", 60)


_PREFIX_AFTER = re.compile(r"/(\d{1,2})(?!\d)")


def _network(text: str, end: int, address: str) -> bool:
    """Whether the address is a network written with its prefix length (``52.16.0.0/14``): its host bits
    are zero, so it names a range of machines, no one's connection."""
    m = _PREFIX_AFTER.match(text, end)
    if m is None or int(m.group(1)) > 31:
        return False
    try:
        return ipaddress.ip_network(f"{address}/{m.group(1)}", strict=True) is not None
    except ValueError:
        return False


def _valid_ip(candidate: str) -> bool:
    """Whether the candidate is an address that may point at someone: loopback (127.0.0.1, ::1) and
    unspecified (0.0.0.0, ::) addresses are the same on every machine, printed by listeners and configs."""
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified)


def _phone_number(raw: str, labelled: bool) -> bool:
    """Whether a candidate digit group is a phone number: an international one that is possible, a
    national one valid in a region and written with separators, or a bare digit run a label vouches for."""
    international = raw.startswith("+")
    if not (international or labelled or _SEPARATED.search(raw)):
        return False
    number = _NON_DIGITS.sub("", raw.partition("x")[0])  # an extension is not part of the number
    if not MIN_PHONE_DIGITS <= len(number) <= MAX_PHONE_DIGITS:
        return False
    if numerals.address_inside(raw) or _SSN_SHAPE.fullmatch(raw):  # an IPv4 address or an SSN
        return False
    if len(number) >= 12 and not international and _CARD_PREFIX.match(number) and luhn_ok(number):
        return False  # a card number (the card detector outranks, and libphonenumber is slow)
    if international:
        # Mexico's mobile numbers were dialled from abroad with a 1 after the country code until 2019, and
        # are still written so ("+52 1 55 ..."): libphonenumber's plan no longer has the 1.
        if number.startswith("521") and len(number) == 13:
            raw = "+52" + number[3:]
        return _parses(raw, None, phonenumbers.is_possible_number)
    if labelled:  # a label vouches for it: any region where such a number is possible
        return any(_parses(raw, region, phonenumbers.is_possible_number) for region in PHONE_REGIONS)
    return any(_parses(raw, region, phonenumbers.is_valid_number) for region in PHONE_REGIONS)


# The regions whose numbers a script before a candidate points at, beyond PHONE_REGIONS (a Chinese SMS
# notice prints a Chinese mobile number): Han, Hangul, Thai, Cyrillic.
_SCRIPT_REGIONS = (
    (re.compile("[\u4e00-\u9fff]"), ("CN", "TW", "HK")),
    (re.compile("[\uac00-\ud7af]"), ("KR",)),
    (re.compile("[\u0e00-\u0e7f]"), ("TH",)),
    (re.compile("[\u0400-\u04ff]"), ("RU", "UA")),
)


@functools.lru_cache(maxsize=1024)
def _phone_of_script(before: str, raw: str) -> bool:
    """Whether a candidate written with separators is a valid number of a region whose script is in the
    text before it (a national number of a region outside PHONE_REGIONS)."""
    if not _SEPARATED.search(raw):
        return False
    regions = [region for script, found in _SCRIPT_REGIONS if script.search(before) for region in found]
    return any(_parses(raw, region, phonenumbers.is_valid_number) for region in regions)


def _parses(raw: str, region: str | None, check: Callable[[phonenumbers.PhoneNumber], bool]) -> bool:
    try:
        return check(phonenumbers.parse(raw, region))
    except phonenumbers.NumberParseException:
        return False


_RANGE = re.compile(r"(\d{2,5})-(\d{2,5})")
_VOLUME_BEFORE = re.compile(r"\d[,:][ \t]?$")


def _page_range(before: str, raw: str) -> bool:
    """Whether the candidate is a citation's page range after its volume ("JAMA 323, 2052-2059"): two
    numbers of one length, the second the larger (`before`: the text before the candidate)."""
    m = _RANGE.fullmatch(raw)
    return (
        m is not None
        and len(m.group(1)) == len(m.group(2))
        and int(m.group(1)) < int(m.group(2))
        and _VOLUME_BEFORE.search(before[-3:]) is not None
    )


_PHONE_BEFORE = 24
"""How much of the text before a phone candidate its context tests read (the label's reach)."""


def _phone_context(before: str, raw: str, after: str) -> bool | None:
    """What the characters around a candidate say (`before`: up to _PHONE_BEFORE of them, `after`: two):
    None when it is a page range or part of an id, else whether a phone label precedes it."""
    if _page_range(before, raw):
        return None
    # Pieces of ids (UUIDs, hex, ORD-2024-000123), times, decimals and longer digit groups are not
    # numbers to call: a token with letters or an id prefix is one token.
    if _PHONE_PROPERTY.search(before):
        return True  # a vCard's or iCalendar's phone property, its value right after its ":"
    if _GLUED_BEFORE.search(before[-2:]) or _GLUED_AFTER.match(after):
        return None
    if _ID_PREFIX.search(before[-12:]) or numerals.not_a_phone(before, raw):
        return None
    return _PHONE_LABEL.search(before) is not None


# A phone property of a vCard or an iCalendar object and its parameters, up to the ":" its value follows
# ("TEL;TYPE=CELL,VOICE:+56 9 ...", "TEL;VALUE=uri:tel:+1-...").
_PHONE_PROPERTY = re.compile(r"(?i)(?:^|\n|\.)TEL(?:;[^:\n]*)?:(?:tel:)?$")
# A key that holds a subscriber's number in the international format without its "+", as SMS gateways and
# SMPP print it ("dst=6281234339574", "destination_addr=..."); there the digits are taken only when they
# are a valid number with a "+" before them.
_E164_KEY = re.compile(
    r"(?i)\b(?:dst|destination_addr|dest_addr|source_addr|msisdn)[\"']?[ \t]*[:=][ \t]*[\"']?$"
)


def _international_digits(before: str, raw: str) -> bool:
    """Whether a bare digit run under an SMS gateway's number key is a valid international number."""
    return (
        raw.isdigit()
        and 10 <= len(raw) <= MAX_PHONE_DIGITS
        and _E164_KEY.search(before) is not None
        and _parses("+" + raw, None, phonenumbers.is_valid_number)
    )


def _phone_shape(candidate: str) -> str | None:
    """The candidate digit group less its trailing separators and an unclosed bracket's part, unless its
    characters alone say it is no phone number (a date, a decimal, a chemical's registry number)."""
    raw = candidate.partition(numerals.CELL_GAP)[0].rstrip(" .-/")
    if len(raw) < MIN_PHONE_DIGITS:  # the first cell of a table's row: too short a group
        return None
    # (Five pairs of digits are a number written the French or Belgian way, 06.12.34.56.78: no date has
    # five parts.)
    if _DATE_OR_DECIMAL.search(raw) and not _DIGIT_PAIRS.fullmatch(raw):  # the commonest look-alikes first
        return None
    if raw.count("(") > raw.count(")"):
        # A bracket that the candidate opens but does not close starts something else ("pp. 357-362
        # (2020)"): a phone number's brackets hold an area code and close inside it.
        raw = raw[: raw.rindex("(")].rstrip(" .-/")
        if len(raw) < 8:
            return None
    if _CAS_SHAPE.fullmatch(raw) and casrn.is_valid(raw):  # a chemical's registry number
        return None
    return raw


def _phones(text: str, hits: Hits) -> Iterator[Span]:
    verdicts: dict[tuple[str, bool], bool] = {}
    # The same digit groups recur (a log's timestamps, a number per request line): what their characters
    # alone say is asked once per text.
    shapes: dict[str, str | None] = {}
    contexts: dict[tuple[str, str, str], bool | None] = {}
    # Digit groups shaped like a phone number; libphonenumber validates only those.
    for m in _matches(_PHONE_CANDIDATE, text, sorted(hits["phone"] + hits["phone_label"] + hits["e164_key"])):
        candidate = m.group()
        if candidate in shapes:
            raw = shapes[candidate]
        else:
            raw = shapes[candidate] = _phone_shape(candidate)
        if raw is None:
            continue
        start = m.start()
        end = start + len(raw)
        # A candidate recurs with what is around it (a log line per request): that is read once per text.
        before = text[start - _PHONE_BEFORE if start > _PHONE_BEFORE else 0 : start]
        context = (before, raw, text[end : end + 2])
        if context in contexts:
            labelled = contexts[context]
        else:
            labelled = contexts[context] = _phone_context(*context)
        if labelled is None:
            continue
        if not labelled and _long_postcode(text, start, end, raw):
            continue
        # The same number recurs in program output (a log line per request): libphonenumber's answer for
        # a candidate, a pure function of its characters, is asked once per text.
        verdict = verdicts.get((raw, labelled))
        if verdict is None:
            verdict = verdicts[raw, labelled] = _phone_number(raw, labelled)
        if (
            verdict
            or (not labelled and not before.isascii() and _phone_of_script(before, raw))
            or (not labelled and _international_digits(before, raw))
        ):
            yield Span(start, end, "PHONE", 50)


def _random_token(token: str) -> bool:
    """Whether a base64-like token looks random rather than like joined words or a path."""
    # Random tokens mix cases with digits or symbols and change case every couple of characters;
    # identifiers and paths are words joined together (long pieces) or all lower case.
    # (The token is ASCII letters, digits and +/_=-: it has a capital when lower-casing changes it.)
    if token.lower() == token or token.upper() == token or token.isalpha():
        return False
    pieces = _WORD_PIECES.findall(token)
    wordy = sum(map(len, pieces)) / max(len(pieces), 1) >= 3.5
    threshold = min(4.3, math.log2(len(token)) - 0.9)
    return not wordy and shannon_entropy(token) >= threshold


def _high_entropy(text: str, hits: Hits) -> Iterator[Span]:
    # Tokens recur in program output (an id per request line): a token's verdict is asked once per text.
    kinds: dict[str, str] = {}
    for m in _matches(_BASE64ISH, text, hits["base64ish"]):
        token, start, end = m.group(), m.start(), m.end()
        kind = kinds.get(token)
        if kind is None:
            kind = kinds[token] = _token_kind(token)
        # A data: URI's payload is content (an inlined image), however random it looks.
        if kind and not text.endswith(";base64,", 0, start) and not _identifier(text, start, end):
            yield Span(start, end, kind, 20)
    # A digest recurs with what is around it (a commit id per log line): its verdict is asked once per text.
    digests: dict[tuple[str, str, str], bool] = {}
    for m in _matches(_HEXISH, text, hits["hexish"]):
        # The label is at most _HASH_LABEL_REACH characters before the hash, on its line.
        start, end = m.start(), m.end()
        context = (text[_line_start(text, start, _HASH_LABEL_REACH) : start], m.group(), text[end : end + 3])
        verdict = digests.get(context)
        if verdict is None:
            verdict = digests[context] = _random_digest(*context)
        if verdict and not _identifier(text, start, end):
            yield Span(start, end, "HIGH_ENTROPY", 20)


def _identifier(text: str, start: int, end: int) -> bool:
    """Whether the output writes the random-looking token at start:end as an identifier (``identifiers.py``):
    named by its key or its digest algorithm, placed in a host name or a refspec, or a joined name."""
    before = text[_line_start(text, start, _HASH_LABEL_REACH) : start]
    return (
        identifiers.labelled(before)
        or identifiers.placed(text, end)
        or identifiers.joined_name(text[start:end])
    )


def _token_kind(token: str) -> str:
    """A base64-like token's kind: "HIGH_ENTROPY" when it looks random, "SECRET" when it decodes to a
    user:password pair, "" when it is no secret (joined words, or content: ``credentials.encoded_kind``)."""
    if not _random_token(token):
        return ""
    kind = credentials.encoded_kind(token)
    return "HIGH_ENTROPY" if kind is None else kind


def _random_digest(before: str, digest: str, after: str) -> bool:
    """Whether a long hex string is a possible secret: not labelled as a hash (`before`: the text before it
    on its line, up to _HASH_LABEL_REACH; `after`: three characters) and not of low entropy."""
    labelled = _HASH_LABEL.search(before) or _SHA_SUM_LINE.match(after)
    return not labelled and shannon_entropy(digest.lower()) >= 3.0


# -- people and places, found by their context ---------------------------------------------------------
# Without an NER model (Presidio's PERSON and LOCATION come from spaCy, whose models cannot be fetched at
# run time here), people and places are found by the structure around them: a field whose key names a
# person's role (``Name:``, ``"owner": ``, ``assigned_to=``, a CSV column headed ``customer_name``), a
# salutation or a title, a sign-off with the name on the next line, the display name before an e-mail
# address; an address after an address label, or by its own shape: a house number next to a street-type
# word, or a street line ending in a house number followed by a postcode and a town.
_PEOPLE_ONLY = r"cashier|passenger|attendee|participant|kasir|penumpang|pelanggan|penerima|pengirim|pasien"
"""Roles that only a person fills (not a team, a firm or a program, as an owner or a customer may be):
under one, a single word in capitals is a person's one name ("Kasir : SUTRISNO"), not an acronym."""
_ROLES = (
    r"name|customer|client|contact|owner|recipient|patient|attn|author|assignee|assigned|manager|"
    r"employee|sender|signed off by|signed|approved by|prepared by|reviewed by|ship to|bill to|deliver to|"
    r"kunde|kundin|empfänger|absender|nom|destinataire|nombre|cliente|destinatario|contatto|naam|klant|"
    r"navn|namn|nimi|jméno|név|"
    # Name parts and people in more languages, as column and key names write them (Vietnamese without its
    # diacritics: "nguoi_nhan", the recipient).
    r"authors|maintainer|nominativo|nome|cognome|vorname|nachname|prenom|prénom|apellidos?|voornaam|"
    r"achternaam|nazwisko|nguoi[ _]nhan|ho[ _]ten|"
    # The initials of "surname, name, patronymic" that Uzbek and Russian forms head a full name with
    # ("F.I.Sh.", "F.I.O."; "." stands for itself here, and "lead" reads the first two characters literally).
    r"f.i.sh.?|f.i.o.?|"
    # The holder of a card or an account ("card_holder", "account_holder_local"), and roles only a person
    # fills, in English and Indonesian (a till's cashier, a ferry's passenger, a clinic's patient).
    rf"holder|{_PEOPLE_ONLY}"
)
_GREETINGS = (
    r"dear|hello|hi|good morning|good afternoon|good evening|thanks|thank you|cher|chère|bonjour|"
    r"sehr geehrte[rs]?|liebe[rs]?|hallo|hola|estimad[oa]|gentile|caro|cara|beste|hej|kære"
)
# Credit given to a person in a changelog or a commit message ("Thanks to Ann Lee for the reproducer",
# "kudos to ..."): the name follows "to" (two words at least: a weak label).
_CREDITS = r"thanks|thank you|many thanks|kudos|credits?|shout-?outs?|hat tip"
# A key holding a role word, joined with _ or - ("full_name", "assigned-to") or followed by "person"
# ("Contact person"), then : or = (or "=>", or the ">" of an XML tag); or a role word followed by a space;
# or a greeting.
_PERSON_LABEL = _Caseless(
    rf"{lead([*_ROLES.split('|'), *_GREETINGS.split('|'), *_CREDITS.split('|')])}"
    rf"(?:(?<=:)(?:{_ROLES})[ \t]+[\"']"  # an EDN keyword and its quoted value ({:name "..."})
    rf"|(?<![\w])(?:{_CREDITS})(?: go(?:es)?)? to[ \t]+"
    # a person numbered in a list ("passenger 112: ...", "Attendee #3: ...")
    rf"|(?<![^\W_])(?:{_PEOPLE_ONLY})[ \t]+#?\d{{1,4}}[ \t]*:[ \t]*"
    rf"|(?<![^\W_])(?:{_ROLES})(?:[_-][\w-]*| person)?"
    rf"(?:>(?=[^<\s])|[\"'\]]?[ \t]*(?:=>?[ \t]*[\"']?|:[ \t]*[\"']?|,?[ \t]+))"
    rf"|(?<![\w])(?:{_GREETINGS})(?![\w]),?[ \t]+)"
)
_SIGN_OFF = _Caseless(
    r"(?<![\w])(?:(?:best|kind|warm|many)? ?regards|best wishes|sincerely|cheers|thanks|thank you|"
    r"cordialement|mit freundlichen grüßen|viele grüße|grüße|saludos|groeten|hälsningar|mvh|pozdrawiam|"
    r"distinti saluti)[,!.]?[ \t]*\n(?:[ \t]*\n)?[ \t]*"
)
_TITLED = re.compile(
    r"(?<![\w])(?:Mr|Mrs|Ms|Dr|Prof|Herr|Frau|Mme|Mlle|Sr|Sra|Sig|Dott)\.?[ \t]+(?=[^\W\d_])"
)
# (Words and spaces taken possessively: neither holds what follows it, so giving back never matched.)
# (In quotes too: '"Ann Lee via LinkedIn" <...>', a relay's display name, whose name ends before "via".)
_DISPLAY_NAME = re.compile(r"[^\W\d_][\w'.-]*+(?:[ \t]++[^\W\d_][\w'.-]*+){1,4}\"?[ \t]+(?=<[^>\s@]+@)")
_ROLE_COLUMN = re.compile(rf"[ \t\"']*(?:[\w -]*[_ ])?(?:{_ROLES})(?:[_ ][\w -]*)?[ \t\"']*")
# A column of a positional record (an SQL column list) that names a person: a role ("customer", "owner"),
# or a name that a person's word qualifies ("first_name", "customer_name"), not a thing's ("file_name",
# "product_name", "host_name").
_PERSON_COLUMN = re.compile(
    rf"(?:(?:{_ROLES}|full|first|last|given|family|middle|sur|maiden|legal|display|person|holder|"
    rf"card ?holder)[ _-]?)?name|(?:{_ROLES})"
)
# (Or Dutch's elided article, a particle after "van" or "in": "Sven van 't Hek"; or Malaysia's "a/l" and
# "a/p", "son of" and "daughter of" in Indian names, tried first: a word would end at the "/". Uzbek writes
# its o' and g' with a turned comma or an opening quote inside a word: "Ulug\u2018bek".)
_NAME_WORD = re.compile(
    r"[asd]/[lpo](?![\w/])"
    r"|(?:(?:dr|mr|mrs|ms|prof|herr|frau|mme|mlle|m)\.?[ \t]+)?"
    rf"[^\W\d_](?:[\w'\u2018\u2019\u02bb.-]|{scripts.MARK})*"
    r"|'t(?![\w'])",
    re.UNICODE,
)
_NAME_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "du", "da", "di", "del", "della", "la", "le", "y", "e", "dos", "das"}
    | {"zu", "ten", "ter", "st.", "st", "'t"}
    # Malay "son of" and "daughter of" between a given name and the father's ("Ahmad bin Rahman"), and
    # their Indian Malaysian counterparts.
    | {"bin", "binti", "bt", "a/l", "a/p", "s/o", "d/o"}
)
# A patronymic's closing word, lower case after the father's name (Uzbek "o'g'li", "son of", its
# apostrophes written four ways, and "qizi", "daughter of"; Azerbaijani "oglu" and "qizi" with their own
# letters; Kazakh "uly", "qyzy"): the name ends with it.
_PATRONYMIC_ENDS = frozenset(
    {f"o{mark}g{mark}li" for mark in "'\u2018\u2019\u02bb"}
    | {"ogli", "qizi", "o\u011flu", "q\u0131z\u0131", "uly", "qyzy", "kyzy", "ogly"}
)
_TITLES = frozenset({"dr", "dr.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "prof", "prof.", "herr", "frau"})
# Capitalised words that name a group, a thing or nobody: a name holding one is not a person's.
_NOT_NAMES = frozenset(
    {
        "the",
        "a",
        "an",
        "all",
        "team",
        "support",
        "department",
        "service",
        "services",
        "customer",
        "customers",
        "client",
        "reader",
        "sir",
        "madam",
        "colleague",
        "colleagues",
        "everyone",
        "world",
        "pipeline",
        "report",
        "system",
        "bot",
        "monitoring",
        "finance",
        "admin",
        "user",
        "users",
        "inc",
        "ltd",
        "llc",
        "gmbh",
        "ag",
        "sa",
        "bank",
        "group",
        "company",
        "office",
        "desk",
        # Nobody, in a field that names a person ("Cashier: NONE", "assigned: Unassigned").
        "none",
        "nobody",
        "unknown",
        "unassigned",
        "null",
        # Family firms ("Pires e Filhos", "Smith & Sons"): a surname and a word for its heirs or partners.
        "sons",
        "söhne",
        "filhos",
        "hijos",
        "figli",
        "fils",
        "zonen",
        "brothers",
        "partners",
        "associates",
        # Firms and institutions by their kind ("Warner Bros.", "Columbia Pictures", "Example Foundation").
        "bros",
        "corp",
        "corporation",
        "pictures",
        "studios",
        "foundation",
        "university",
        "institute",
        "labs",
        # Institutions by their kind, in the languages of Europe ("Spitalul Județean", "Klinikum Nord").
        "hospital",
        "hôpital",
        "spital",
        "spitalul",
        "szpital",
        "ospedale",
        "krankenhaus",
        "klinikum",
        "clinic",
        "clinica",
        "clínica",
        "ziekenhuis",
        "laboratory",
        "laborator",
        "ministry",
        "ministerul",
        "ministerio",
        "ministère",
        "school",
        "escola",
        "scuola",
        "schule",
        "universitatea",
        "universidad",
        "universität",
        "université",
    }
)
_NOT_NAME_ENDINGS = ("ing", "ly", "tion", "ment")
# Kazakh surnames made from the father's name and "uly", "son of" ("Serikuly"), end like an English adverb.
_SURNAME_ENDINGS = ("uly",)
# A romanised Chinese or Korean given name in hyphenated syllables ("Mei-Ling", "Xiao-Ming") ends in
# "ing" without being a word of that ending.
_SYLLABLES = re.compile(r"[a-z]{1,4}(?:-[a-z]{1,4})+")
_NAME_LIKE_ARTICLES = frozenset({"a", "an"})
"""Articles that are also names after a first word (Vietnamese "Nguyễn Văn An", Korean "Kim A")."""


# Georgian is written without case: Unicode 11 gave its letters capitals (Mtavruli) for text set in
# capitals only, so Python reads every Mkhedruli letter as lower case, and a name starts with one.
_CASELESS_IN_USE = re.compile("[\u10d0-\u10ff]")


def _capital(char: str) -> bool:
    """A capital letter, or a letter of a script without case (Han, Hangul, Hebrew, Arabic, Devanagari,
    Thai, Georgian...), where every word of a name is written the same way."""
    return (
        char.isupper()
        or (ord(char) > 0x2FF and not char.islower() and char.isalpha())
        or _CASELESS_IN_USE.match(char) is not None
    )


def _glued_key(text: str, end: int) -> bool:
    """Whether the word ending at `end` is the next field's key: glued to ":" or "=" and to its value, as
    a record printer writes it (Go's ``{Name:Ann Lee Address:...}``)."""
    return text[end : end + 1] in (":", "=") and not text[end + 1 : end + 2].isspace() and end + 1 < len(text)


def _surname_after_given(word: str, before: str) -> bool:
    """Whether `word`, which ends like an English gerund or adverb, is a surname after the name `before`:
    a Kazakh patronymic surname, or any such word after a known given name alone ("Wahyu Sihombing",
    "Ian Fleming"; a firm's "Acme Consulting" has no given name first)."""
    return word.endswith(_SURNAME_ENDINGS) or (
        word.endswith("ing") and " " not in before and before.lower() in _FIRST_NAMES
    )


def _name_end(text: str, start: int, limit: int | None = None) -> int:
    """End of the person's name starting at `start`: capitalised words, particles between them, each
    after one space or tab (matched where it must start, rather than searched for)."""
    end = start
    words = 0
    match = _NAME_WORD.match
    m = match(text, start, len(text) if limit is None else limit)
    while m is not None and words < 5:
        word, cursor = m.group(), m.end()
        lower = word.lower().rstrip(".,")
        first = word[0]
        capital = first.isupper() or _capital(first)  # most are Latin capitals: the short way first
        if (
            (capital or words == 0)
            and (
                lower in _NOT_NAMES
                or (
                    lower.endswith(_NOT_NAME_ENDINGS)
                    and not _SYLLABLES.fullmatch(lower)
                    and not (words and _surname_after_given(lower, text[start:end]))
                )
            )
            and not (words and lower in _NAME_LIKE_ARTICLES)
            and word[1:] != "."  # an initial ("A. K. Mensah"), not the article
        ):
            return start  # a capitalised word that names a group or a thing: not a person's name at all
        if words and (
            (text[cursor : cursor + 1] in (":", "=") and _glued_key(text, cursor))
            or (not word.isalpha() and _DIGIT.search(word))
        ):
            break  # the next field's key, or a model code ("M2"): no word of a name holds a digit
        if capital or lower in _TITLES:
            end, words = cursor, words + 1
        elif words >= 2 and lower in _PATRONYMIC_ENDS:
            return cursor
        elif lower not in _NAME_PARTICLES:
            break
        m = (
            match(text, cursor + 1, len(text) if limit is None else limit)
            if text.startswith((" ", "\t"), cursor)
            else None
        )
    return end


def _name_at(
    text: str, start: int, min_words: int, priority: int = 35, limit: int | None = None
) -> Span | None:
    """The person's name at `start` (within `limit`: a cell's end), of `min_words` words at least."""
    # Most labels are followed by no name; a name's first character is a word character (``_NAME_WORD``),
    # and every word character but "_" is alphanumeric: anything else is a no without the search.
    if not text[start : start + 1].isalnum():
        return None
    line_end = line_index(text).end(start)
    if line_end - start > _NAME_LINE:
        length = _name_length(text, start, min_words, limit)
    else:
        # What the name's search reads lies on its line (a word ends before a line break, and a glued
        # key's test stops at one), with the character before it: the answer for that piece of text is
        # kept (program output repeats its lines; a label is followed by the same text every time).
        first = start - 1 if start else 0
        stop = line_end + 1 if limit is None else min(limit, line_end + 1)
        length = _line_name_length(text[first : line_end + 1], start - first, min_words, stop - first)
    return None if length is None else Span(start, start + length, "PERSON", priority)


_NAME_LINE = 200
"""The longest rest of a line whose answer `_name_at` keeps (a longer one is read in place: copying the
rest of one long line for every label on it would make the time quadratic)."""


@functools.lru_cache(maxsize=4096)
def _line_name_length(line: str, start: int, min_words: int, limit: int) -> int | None:
    return _name_length(line, start, min_words, limit)


def _name_length(text: str, start: int, min_words: int, limit: int | None) -> int | None:
    """The length of the person's name at `start` (`_name_at`), or None."""
    name = text[start : _name_end(text, start, limit)].rstrip(".,")
    if name.endswith("'") and text[start - 1 : start] == "'":
        name = name[:-1]  # the closing quote of a quoted name, not an apostrophe of it
    if not name:
        return None
    words = len(_NAME_WORD.findall(name))
    # A single word in capitals is an acronym or a code ("EMEA"), not a name.
    if words >= min_words and (words > 1 or not name.isupper()):
        return len(name)
    return None


# A person named in running text, with no label before them ("then Maria Gonzalez called back"): a known
# first name, capitalised, followed by a capitalised surname (particles between). The first names come
# from Faker's person providers, less those that are also common words (tests/corpora/first_names.py).
_FIRST_NAMES = frozenset(
    (files("level5.safety") / "data" / "first_names.txt").read_text(encoding="utf-8").split()
)
_FIRST_WORD = re.compile(r"[^\W\d_]+")
# The first names as the text writes them before a surname: capitalised, then a space ("?" in a name
# stands for any character outside Latin-1, as in the scanned bytes). Found by the prefilter's literal pass,
# a few hundred per MB, where checking every capitalised word took 6,000 set lookups per MB in Python. (A
# literal for each other character that may end the name would make 110,000 literals, 3.6 s to compile.)
# The rarer shapes go to the "rare_first_name" trigger, whose line is searched again here: a name ended by
# a tab, a hyphen, an apostrophe or a character outside Latin-1 ("Jean-Pierre Dupont"), and a name whose
# capital is outside Latin-1 (Łukasz, Ольга: as a literal of "?"s it would match every run of such letters).
_FIRST_NAME_FORMS = frozenset(
    f"{name[0].upper()}{name[1:]} "
    for name in _FIRST_NAMES
    if re.fullmatch(r"[^\W\d_]{2,}", name) and re.fullmatch(r"[A-Z\xc0-\xde]", name[0].upper())
)
_NON_LATIN1 = "\u0100-\U0010ffff"
# Before the first name: nothing that glues it to a word ("Smith-Maria", "o'Maria"), or to a path or an
# identifier: "/" and "_" join a tz database's area to its city ("Australia/Sydney", "America/Los_Angeles")
# and a path's parts, which name places and things, never a person by a running name.
_GLUE = rf"A-Za-z\xc0-\xff?'\-/_{_NON_LATIN1}"
_GLUED_TO_NAME = re.compile(rf"[{_GLUE}]")
_PARTICLES = r"(?:(?:da|de|del|della|di|du|van|von|der|den|la|le|dos|das|ten|ter|zu|y|e|st\.?)[ \t]+)*"
# After it: the rest of a hyphenated or possessive word, then (particles between) a capitalised word.
_SURNAME_AFTER = re.compile(
    rf"(?:[?'\-\xf7{_NON_LATIN1}][a-z\xdf-\xff?'\-{_NON_LATIN1}]*)?[ \t]+{_PARTICLES}"
    rf"[A-Z\xc0-\xde?{_NON_LATIN1}]"
)
# Where a name may start in the line of a "rare_first_name" hit: a capital not glued to a word.
_CAPITAL = re.compile(rf"(?<![{_GLUE}])[A-Z\xc0-\xde{_NON_LATIN1}]")


def _rare_starts(text: str, hits: Hits) -> list[int]:
    """Where a name may start in the lines of "rare_first_name" hits. Hits on one line share its start
    (their windows nest), so each part of a line is searched once: the capitals before the previous hit's
    end were found then, and yielding them again only made duplicate spans."""
    starts: list[int] = []
    searched = 0
    for line_start, end in hits["rare_first_name"]:
        if end > searched:
            starts += [m.start() for m in _CAPITAL.finditer(text, max(line_start, searched), end)]
            searched = end
    return starts


# Capitalised words followed, after one space, by a version or a model code name a product, not a person
# ("Rocky Linux 9", "Mac Studio M2 Ultra", "Windows Server 2022"): a name in running text is not followed
# by one. A number that more digits follow (a phone number) or a column of a table (two spaces, a tab) is
# no version.
_MODEL_AFTER = re.compile(r" (?:[vV]?\d+(?:\.\d+)*|[^\W\d_]{1,3}\d+[\w.]*)(?![\w-]|[.,:/]?\d| +\d)")
# A bare count in brackets after capitalised words ("Ford Transit Custom (4)", "Octavia Combi (7)") makes
# them an item of a tally (a fleet, a stock list); git shortlog's "Ann Lee (12):" heads a person's commits.
_COUNT_AFTER = re.compile(r" \(\d+\)(?!:)")
# The last word of a street or square's name: capitalised words that end with one name a place ("Baker
# Street", "Abbey Road"), not a person. (Surnames that are also street words, "Lane", "Hill", "Park", are
# left out.)
_PLACE_LAST_WORDS = frozenset(
    {"street", "road", "avenue", "boulevard", "square", "straße", "strasse", "allee", "platz", "gasse"}
    # and regions of the world by their continent or ocean ("Asia Pacific", "Latin America").
    | {"pacific", "atlantic", "america", "africa", "europe", "asia", "oceania", "islands", "ocean"}
)


def _last_word(text: str, span: Span) -> str:
    return text[text.rfind(" ", span.start, span.end) + 1 : span.end]


def _running_names(text: str, hits: Hits) -> Iterator[Span | None]:
    # (Lists and bound methods: about 5,000 places per MB.)
    glued, word_at = _GLUED_TO_NAME.match, _FIRST_WORD.match
    starts = [start for start, _ in hits["first_name"] if not (start and glued(text, start - 1))]
    for start in starts + _rare_starts(text, hits):
        word = word_at(text, start)
        if word is None or word.group().lower() not in _FIRST_NAMES:
            continue
        if _SURNAME_AFTER.match(text, word.end()):
            name = _name_at(text, start, 2, priority=30)
            if (
                name is not None
                and not _MODEL_AFTER.match(text, name.end)
                and not _COUNT_AFTER.match(text, name.end)
                and _last_word(text, name).lower() not in _PLACE_LAST_WORDS
            ):
                yield name


# A passenger in a manifest or a booking record (PNR), as airlines print them: SURNAME/GIVEN NAMES in
# capitals and the title after ("1.1YILDIRIM/SUKRU MR", "NGUYEN/THI HOA MS"); the name without its title.
# A surname of at most four words: unbounded, every word of a long run of words (one long line of prose)
# took all the words after it before failing at the missing "/", quadratic in the run's length.
_MANIFEST_NAME = re.compile(
    r"(?<![^\W\d_])[^\W\d_]++(?:[ '\-][^\W\d_]++){0,3}+/[^\W\d_]++(?:[ '\-][^\W\d_]++)*?"
    r"(?= +(?:MRS?|MS|MSTR|MISS|DR|MX)\b)"
)
# A speaker in a chat export: after the time the message was sent ("[08:08] Ann Lee: ...", WhatsApp's
# "12/03/2024, 08:08 - Ann Lee: ..."), a name of two words or more, then ":". A subtitle's cue (SubRip,
# WebVTT) names its speaker the same way at the start of its text, the line after its timing line
# ("00:07:14,200 --> 00:07:17,900"). LINE's export puts the sender between tabs after the time, at the
# start of the line ("16:42<tab>Ann Lee<tab>..."), its "tab" group.
_SPEAKER = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2})?(?:\]| -)[ \t]+|--> \d{1,2}:\d{2}:\d{2}[,.]\d{3}\n"
    r"|(?:^|(?<=\n))\d{1,2}:\d{2}(?P<tab>\t)"
)
# git shortlog -s's line: a right-aligned commit count, a tab, the author (the whole rest of the line).
_SHORTLOG_COUNT = re.compile(r"(?m)^ *\d{1,7}\t")
# A commit's author where git prints it after the commit's hash: after its date in a log line of a
# format such as "%h %ad %an  %s" (the author then followed by a field's gap, an address or a separator,
# not the end of the line: "55f6288 2026-11-28 Fix Parser" is a subject), or in blame's brackets before
# the date ("^3c1e0a2 src/app.py (Ann Lee 2026-11-28 10:02:11 +0100 12)").
_COMMIT_HEAD = re.compile(
    r"(?m)^\^?[0-9a-f]{7,40}[ \t]+(?:(?P<date>\d{4}-\d\d-\d\d(?:[ T]\d\d:\d\d(?::\d\d)?)?"
    r"(?:[ \t]?(?:[+-]\d\d:?\d\d|Z))?)[ \t]+|(?:[^\s(]+[ \t]+)?\()"
)
_AFTER_COMMIT_AUTHOR = re.compile(r"  |\t| <| [|-] |,")
_BLAME_DATE = re.compile(r" \d{4}-\d\d-\d\d")
# A single word in capitals under a role that only a person fills: a person's one name (Javanese names,
# among others, are often one word), when it is pronounceable (a vowel) and not a word for nobody.
_PEOPLE_ONLY_ROLE = re.compile(_PEOPLE_ONLY)  # on the label as matched, in lower case
_MONONYM = re.compile(r"[A-Z\xc0-\xde][A-Z\xc0-\xde'-]{2,24}(?![\w'-])")
_VOWEL = re.compile(r"[AEIOUY\xc0-\xc6\xc8-\xcf\xd2-\xd6\xd8-\xdd]")


def _mononym_at(text: str, start: int) -> Span | None:
    m = _MONONYM.match(text, start)
    if m is None or not _VOWEL.search(m.group()) or m.group().lower() in _NOT_NAMES:
        return None
    return Span(start, m.end(), "PERSON", 35)


# A person's page or picture in a site's directory of people ("/team/ann-lee/photo.webp", "/equipa/...",
# "/mitarbeiter/..."): the path segment after it is the person's name as a slug, a known given name and
# one to three more words joined by hyphens.
_PEOPLE_DIRECTORIES = (
    r"team|equipa|equipe|equipo|staff|people|members|mitarbeiter|personen|employees|profiles?|authors?|"
    r"medewerkers|pessoas|persone|personale"
)
_PERSON_SLUG = _Caseless(
    rf"/(?:{_PEOPLE_DIRECTORIES})/(?P<slug>(?P<given>[a-z]+)(?:-[a-z]+){{1,3}})(?=[/.?#\s\"']|$)"
)
# A column's SQL type after its name ("name TEXT NOT NULL", "owner VARCHAR(64)"): a table's definition,
# not a value.
_SQL_TYPE = re.compile(r"(?:N?VARCHAR2?|N?CHAR(?:ACTER)?|TEXT|STRING|CLOB|CITEXT)\b")


# A name followed by a dotted version is a product's ("PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"").
_VERSION_AFTER = re.compile(r"[ \t][vV]?\d+\.\d+")
# A key that joins "name" to a thing's word names that thing ("street_name", "label.host_name"): what the
# person's label found in it is no person's.
_THING_NAME_KEY = re.compile(
    r"(?i)(?<![^\W_])(?:street|road|file|host|product|package|app|branch|project|device|server|service|"
    r"table|column|field|bucket|image|container|node|cluster|database|schema|domain|company|org|brand|"
    r"model|city|country|region|town|place|team|group|event|dataset|pretty|display_?os)[_.-]\Z"
)


def _people(text: str, hits: Hits) -> Iterator[Span]:
    found: list[Span | None] = list(_running_names(text, hits))
    for m in _matches(_PERSON_LABEL, text, hits["person"]):
        # Most labels are followed by no name at all, so that is asked first.
        name = _name_at(text, m.end(), 1)
        keyed = m.group().rstrip(" \t\"'").endswith((":", "="))
        if name is None and keyed and _PEOPLE_ONLY_ROLE.search(m.group()):
            found.append(_mononym_at(text, m.end()))
        if (
            name is None
            or _SQL_TYPE.match(text, m.end())
            or _VERSION_AFTER.match(text, name.end)
            or (
                _lowered(text).startswith("name", m.start())
                and _THING_NAME_KEY.search(text, max(0, m.start() - 12), m.start())
            )
        ):
            continue
        # One word after a weak label ("Customer count") is a noun; after "Name:" or "Dear" it is a name.
        strong = m.group().rstrip(" \t\"'").endswith((":", "=", ">")) or text[
            m.start() : m.start() + 4
        ].lower() in (
            "dear",
            "name",
        )
        found.append(name if strong else _name_at(text, m.end(), 2))
    for m in _matches(_SIGN_OFF, text, hits["sign_off"], lines=2):
        if _line_end(text, m.end()) - _name_end(text, m.end()) <= 1:  # the name is the whole line
            found.append(_name_at(text, m.end(), 2))
    for m in _matches(_TITLED, text, hits["title"]):
        found.append(_name_at(text, m.end(), 1))
    # A passenger's name ends before the title the trigger ends with (or one character before its end).
    for m in _matches(_MANIFEST_NAME, text, hits["manifest"], back=64, reach=0):
        if m.group().isupper():
            found.append(Span(m.start(), m.end(), "PERSON", 35))
    for m in _matches(_SPEAKER, text, hits["speaker"], back=12):
        # Between tabs the name is the whole cell: it ends at the next tab (a message in a script without
        # case would read as more words of the name).
        limit = text.find("\t", m.end(), m.end() + _NAME_LINE) if m.group("tab") else None
        name = _name_at(text, m.end(), 2, limit=limit) if limit != -1 else None
        if name is not None and text.startswith("\t" if limit else ":", name.end):
            found.append(name)
    for m in _matches(_COMMIT_HEAD, text, hits["commit"]):
        name = _name_at(text, m.end(), 2)
        after = _AFTER_COMMIT_AUTHOR if m.group("date") else _BLAME_DATE
        if name is not None and after.match(text, name.end):
            found.append(name)
    for m in _matches(_SHORTLOG_COUNT, text, hits["shortlog"]):
        name = _name_at(text, m.end(), 2)
        if name is not None and _line_end(text, name.end) == name.end:
            found.append(name)
    for m in _matches(_PERSON_SLUG, text, hits["person_slug"], back=24):
        if m.group("given") in _FIRST_NAMES:
            found.append(Span(m.start("slug"), m.end("slug"), "PERSON", 35))
    # A display name ends at the "<" of the address the trigger found, whose "@" ends the trigger.
    for m in _matches(_DISPLAY_NAME, text, hits["display_name"], back=80, reach=0):
        found.append(_name_at(text, m.start(), 2))
    line_end = -1
    # Program output repeats its header lines (a table printed per request): each is read once per text.
    headers: dict[str, tuple[str, frozenset[int]]] = {}
    for start, _ in hits["csv_header"]:
        if start > line_end:
            line_start, line_end = line_index(text).start(start), _line_end(text, start)
            line = text[line_start:line_end]
            header = headers.get(line)
            if header is None:
                header = headers[line] = _role_columns(line)
            found += _csv_people(text, line_end, *header)
    yield from (span for span in found if span is not None and not _brand_or_header(text, span))


# A registered or trade mark after capitalised words makes them a brand ("Intel(R) Xeon(R)", "Acme™").
_MARK_AFTER = re.compile(r"\((?:R|TM)\)|[\u00ae\u2122]")
# A table's header row: three cells or more, split by tabs or runs of spaces, each one word ("Name
# Version License" above pip-licenses' rows): a header's next cell is no value of the one before it.
_HEADER_CELL = re.compile(r"[^\W\d_][\w%().:/-]*")


def _brand_or_header(text: str, span: Span) -> bool:
    """Whether a name found is a brand by its mark, or a one-word cell of a table's header row."""
    if _MARK_AFTER.match(text, span.end):
        return True
    if " " in text[span.start : span.end]:
        return False
    lines = line_index(text)
    line_start, line_end = lines.start(span.start), lines.end(span.start)
    if line_end - line_start > _NAME_LINE:  # no header row is that long
        return False
    cells = COLUMN_GAP.split(text[line_start:line_end].strip())
    return len(cells) >= 3 and all(_HEADER_CELL.fullmatch(cell) for cell in cells)


def _role_columns(line: str) -> tuple[str, frozenset[int]]:
    """A header line's delimiter and the columns that name a person's role (none: not a header)."""
    delimiter = max(",;\t|", key=line.count)
    cells = line.split(delimiter)
    columns = frozenset(i for i, cell in enumerate(cells) if _ROLE_COLUMN.fullmatch(cell.lower()))
    return delimiter, columns if len(cells) >= 2 else frozenset()


def _csv_people(text: str, line_end: int, delimiter: str, columns: frozenset[int]) -> Iterator[Span | None]:
    """The cells below a header line (ending at `line_end`) in the columns that name a person's role
    (`_role_columns`), until a blank line."""
    if not columns:
        return
    cursor = line_end + 1
    rule = _RULE_LINE.match(text, cursor)
    if rule is not None:  # psql's and a Markdown table's rule under the header
        cursor = rule.end()
    while cursor < len(text) and text[cursor] != "\n":
        end = _line_end(text, cursor)
        row = text[cursor:end]
        if delimiter not in row:
            break
        offset = cursor
        for index, cell in enumerate(row.split(delimiter)):
            if index in columns:
                start = offset + len(cell) - len(cell.lstrip(" \"'"))
                yield _name_at(text, start, 1, limit=offset + len(cell))
            offset += len(cell) + 1
        cursor = end + 1


_RULE_LINE = re.compile(r"[ \t]*[|+]?[ \t]*[-=:]{3,}[-=:+| \t]*\n")


def _line_end(text: str, start: int) -> int:
    return line_index(text).end(start)


def _line_start(text: str, pos: int, reach: int) -> int:
    """Where the line holding `pos` starts, or `reach` characters before `pos` when it starts earlier
    (for a look-behind that a pattern's longest match bounds): a bounded ``rfind``."""
    lowest = max(0, pos - reach)
    return text.rfind("\n", lowest, pos) + 1 or lowest


_ADDRESS_LABEL = _Caseless(
    r"(?<![\w])(?:(?:postal |mailing |billing |shipping |delivery |home |street |post)?address[e]?|adresse|"
    r"anschrift|lieferadresse|rechnungsadresse|postadresse|ship to|deliver to|moved to|lives at|wohnt in|"
    r"location|indirizzo|dirección|adres|adresa|cím|osoite)(?![\w])"
    r"[ \t]*[:=]?[ \t]*"
)
# An IP address after an address label ("has address", nslookup's "Address:"): a network address.
_NETWORK_ADDRESS = re.compile(
    r"(?:\d{1,3}\.){3}\d{1,3}(?![\w.])|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])"
)
_STREET_WORDS = (
    r"street|st\.|avenue|ave\.?|road|rd\.|lane|drive|dr\.|court|ct\.|way|place|square|boulevard|blvd\.?|"
    r"terrace|crescent|close|gardens|grove|hill|park|row|walk|mews|view|village|parkway|highway|circle|"
    r"trail|ridge|flat|suite|apt\.?|"
    r"stra(?:ß|ss)e|str\.|weg|platz|allee|gasse|ring|damm|ufer|chaussee|"
    r"rue|boulevard|bd|chemin|allée|impasse|quai|cours|route"
)
_NUMBER = r"\d{1,5}[a-z]?(?:[-/]\d{1,5})?"
_WORDS = r"[^\W\d_][\w'.-]*[ \t]+"
# A house number, up to four words and a street-type word ("7631 Johnson Village"), or up to three
# words ending in one and then the number ("Anett-Mende-Allee 5-7", "rue Camille 4").
_STREET = _Caseless(
    rf"(?<![\w])(?:{_NUMBER},?[ \t]+(?:{_WORDS}){{0,4}}?(?:{_STREET_WORDS})(?![\w])"
    rf"|(?:{_WORDS}){{0,3}}?(?:[^\W\d_][\w'-]*?)?(?:{_STREET_WORDS})(?![\w])[ \t,]*{_NUMBER}(?![\w]))"
)
# The street shape's second form tries every street word at every letter of up to four words before it,
# the costly part; on a line where no street word is followed by a number it cannot match, and the first
# form alone finds the same (two lines in three of those with a street hit).
_STREET_NUMBER = _Caseless(rf"{lead(_STREET_WORDS.split('|'))}(?:{_STREET_WORDS})(?![\w])[ \t,]*\d")
_NUMBER_FIRST_STREET = _Caseless(
    rf"(?<![\w])(?:{_NUMBER},?[ \t]+(?:{_WORDS}){{0,4}}?(?:{_STREET_WORDS})(?![\w]))"
)
# Any street vocabulary: words, then a house number, then (after a comma or a line break) a postcode of
# 3 to 5 digits (split or with a country letter: "406 69", "H-7690") and a capitalised town.
# (Written with each word's first letter before the look-behind and the words taken possessively, as
# _COMMA_ADDRESS below: the same matches.)
# Where _STREET_POSTCODE's house number, comma and postcode are one quantity with a thousands separator
# ("Fetched 9,043 kB"): three digits glued to the comma; a postcode follows its comma after a space or a
# line break, and has four digits or more where a town follows it.
_THOUSANDS = re.compile(r"(?<![\d,])\d{1,3},\d{3}(?![\d,])")
# Words of a line that are cells of a table: a gap of three spaces or a tab between them.
_CELL_GAP = re.compile(r"   |\t")
# After the house number (a comma may come between it and the street: "Rua da Prata, 112"), a flat's floor
# and side or door may have a field of its own, up to three short words: "3. tv.", "st. th." (Danish),
# "3.º Esq.", "R/C" (Portuguese), "3os orofos" (Greek). Portugal's postcode is 4-3 digits ("1100-417").
# (The field ends with an abbreviation's full stop or is a letter pair, "R/C": the trigger sees that end.)
_FLAT_FIELD = r"(?:,[ \t]*(?:(?:[\wºª°.]{1,6}[ \t]){0,2}[\wºª°.]{0,7}\.|[A-Za-z]/[A-Za-z]))?"
_STREET_POSTCODE = re.compile(
    rf"[^\W\d_](?<![\w].)(?:[\w'.-]*+[ \t]++[^\W\d_]){{0,3}}[\w'.-]*+,?[ \t]++{_NUMBER}\.?{_FLAT_FIELD}"
    r'(?:,[ \t]*|[ \t]*\n[ \t]*)(?:[A-Z]{1,2}-)?\d{3,5}(?: ?\d{2}|-\d{3})?[ \t]+[^\W\d_][^\n,;|"]*'
)
# A house number and capitalised words ("189 Cynthia Shore"), in any street vocabulary, when a postcode
# follows on the same line or one of the next two. A number after an en dash (a score, a range) is none.
_NUMBER_STREET = re.compile(
    r"(?<![\w.,:\-\u2013])\d{1,5}[a-z]?[ \t]+(?:[^\W\d_][\w'.-]*[ \t]+){0,3}[^\W\d_][\w'.-]*"
)
# A street word that opens an address after its label, in lower case; also Polish's abbreviations (ulica,
# aleja, osiedle, plac), which come before the street's name ("ul. Piotrkowska 87").
_STREET_FIRST = re.compile(rf"(?i)(?:{_STREET_WORDS}|ul\.|al\.|os\.|pl\.)[ \t]")
# A line holding a postcode: 4 or 5 digits (not a date's year, "01.06.2024"), a UK postcode, or a US state
# and ZIP.
_POSTCODE = r"(?<!\d[./])\b\d{4,5}\b(?![./]\d)|\b[a-z]{1,2}\d[a-z\d]? ?\d[a-z]{2}\b|\b[a-z]{2}\.? \d{5}\b"
_POSTCODE_LINE = re.compile(rf"(?i)^[ \t,]*[^\n]{{0,40}}?(?:{_POSTCODE})[^\n]{{0,40}}$")
_POSTCODE_REACH = 40 + 9 + 40
"""The longest line _POSTCODE_LINE matches, after its leading separators: 40 characters, a postcode (9 at
most: "NY. 10001"), 40 characters."""


def _postcode_line(line: str) -> bool:
    """Whether a line (without its line break) holds a postcode within 40 characters of both ends. A longer
    line is rejected by its length: the pattern would backtrack through every split of it first."""
    return len(line.lstrip(" \t,")) <= _POSTCODE_REACH and _POSTCODE_LINE.match(line) is not None


_LEADING_SEPARATORS = re.compile(r"[ \t,]*")


def _postcode_in(text: str, start: int, end: int) -> bool:
    """`_postcode_line` of text[start:end] (one line), without copying a line too long to be one: an
    address label on a long line would otherwise copy the rest of the line (quadratic on one-line text)."""
    lead = _LEADING_SEPARATORS.match(text, start, end)
    return (end - (lead.end() if lead else start)) <= _POSTCODE_REACH and _postcode_line(text[start:end])


# A one-line address as prose writes it, in any street vocabulary: two to five comma-separated fields
# (capitalised words, or a house number alone: "Parque Gonçalves, 94, Horto"), then a field that opens with
# a postcode of 3 to 6 digits, or 5-3 ("24760-910", Brazil), and may close with a capitalised town and a
# region code ("Sá Verde / PE"). Fields are separated by a comma and a space, which keeps CSV rows out.
# (A word's letters and the spaces after it are taken possessively (*+, ++): what follows either is a space
# or a comma, which neither holds, so giving some back never made a match; Python's re tried it at every
# letter of every word before failing. The first capital is found before the look-behind is asked, so the
# search skips to capitals in one scan.)
# (Or a floor: an ordinal and its word, "3os orofos", "2. emelet".)
_FIELD = (
    r"(?:[^\W\d_][\w'.ªº-]*+(?:[ \t]++[\w'.ªº/-]++){0,6}|\d{1,5}[a-z]?"
    r"|\d{1,2}[.ºª°a-z]{1,3}[ \t][^\W\d_][\w.]*+)"
)
_TOWN = r"[^\W\d_a-z][\w'.-]*"
_COMMA_ADDRESS = re.compile(
    rf"[^\W\d_a-z](?<![\w,].)[\w'.ªº-]*+(?:[ \t]++[\w'.ªº/-]++){{0,9}},[ \t]+(?:{_FIELD},[ \t]+){{1,4}}"
    rf"(?:[A-Z]{{1,2}}-)?\d{{3,6}}(?:-\d{{3}})?(?![\w-])"
    rf"(?:[ \t]+(?:d[aeo]s?[ \t]+)?{_TOWN}(?:[ \t]+(?:{_TOWN}|d[aeo]s?|la|le|/|[A-Z]{{2}}))*)?"
)


# What every _COMMA_ADDRESS holds: its last field between two commas, then the start of its postcode (a
# search for the whole shape, from 160 characters before the trigger, is made only where this is found:
# two windows in three lack it).
_TWO_FIELDS_AND_POSTCODE = re.compile(r",[ \t]+[^,\n]+,[ \t]+(?:[A-Z]{1,2}-)?\d{3}")


# A key that joins an address word to another ("shipping_address", "postalAddress" lower-cased) or is
# quoted (JSON): taken only before a value in a script without case, whose start no capital marks.
# (The look-ahead holds at the start of every match: a run of word characters, then the key word and its
# separator. Without it, every place in the 40 characters searched before a hit tried the three forms,
# each backtracking through the rest of its word.)
_ADDRESS_KEY_END = re.compile(r"ad(?:dress|dr|resse)[\"']?[ \t]*[:=]")  # in every match (a needle)
_JOINED_ADDRESS_LABEL = _Caseless(
    r"(?=[\w-]*?ad(?:dress|dr|resse)[\"']?[ \t]*[:=])"
    r"(?:[\w-]*[_-]|(?<![\w])|[a-z]+)(?:address|addr|adresse)[\"']?[ \t]*(?:[:=]|=>)[ \t]*[\"']?"
)


def _script_value_start(text: str, start: int) -> bool:
    """A value that opens with a letter of a script without case, or with a house number followed by
    such letters in its field."""
    if start >= len(text):
        return False
    if text[start].isdigit():
        return scripts.NON_LATIN_LETTER.search(text, start, scripts.field_end(text, start)) is not None
    return ord(text[start]) > 0x2FF and text[start].isalpha()


def _addresses(text: str, hits: Hits) -> Iterator[Span]:
    if not text.isascii():
        for m in _matches(_JOINED_ADDRESS_LABEL, text, hits["address"], back=40, needle=_ADDRESS_KEY_END):
            if _script_value_start(text, m.end()):
                end = scripts.field_end(text, m.end())
                if end - m.end() >= 6 and scripts.DIGIT.search(text, m.end(), end):
                    yield Span(m.end(), end, "ADDRESS", 40)
    for m in _matches(_ADDRESS_LABEL, text, hits["address"]):
        # A label at the end of its line introduces the lines below; an address starts with a number or
        # a capital ("ship to region: EMEA" is not one) and ends at its postcode line, four lines at most.
        start = m.end() + 1 if text.startswith("\n", m.end()) else m.end()
        if _NETWORK_ADDRESS.match(text, start):  # "Address: 151.101.64.223": the IP detector's to judge
            continue
        if start >= len(text) or not (
            _capital(text[start]) or text[start].isdigit() or _STREET_FIRST.match(text, start)
        ):
            continue
        end = _line_end(text, start)
        cursor = end
        for _ in range(3):
            if _postcode_in(text, start, end) or cursor >= len(text):
                break
            cursor = _line_end(text, cursor + 1)
            line = _short_line(text, cursor)
            if line is None:
                break
            if _postcode_line(line):
                end = cursor
                break
        if end - start >= 8 and _DIGIT.search(text, start, end):
            yield Span(start, end, "ADDRESS", 40)
    # The street shape is costly to try at every word, so it is tried only on lines with a street word
    # and a digit.
    line_end = -1
    for start, _ in hits["street"]:
        if start <= line_end:
            continue
        line_start, line_end = line_index(text).start(start), _line_end(text, start)
        yield from _streets(text, line_start, line_end)
    for m in _matches(_STREET_POSTCODE, text, hits["street_postcode"], back=80, lines=1):
        if not _THOUSANDS.search(m.group()):
            yield Span(m.start(), len(m.group().rstrip(" \t.")) + m.start(), "ADDRESS", 40)
    for m in _matches(_COMMA_ADDRESS, text, hits["comma_address"], back=160, needle=_TWO_FIELDS_AND_POSTCODE):
        yield Span(m.start(), len(m.group().rstrip(" \t/")) + m.start(), "ADDRESS", 40)
    for m in _matches(_NUMBER_STREET, text, hits["number_street"]):
        if not m.group().split()[1][0].isupper():
            continue
        address_end = _postcode_after(text, m.end())
        if address_end is not None:
            yield Span(m.start(), address_end, "ADDRESS", 40)


def _postcode_after(text: str, start: int) -> int | None:
    """End of the postcode line that ends an address: the rest of this line, or one of the next two
    short lines (a town line may come between)."""
    end = _line_end(text, start)
    if _postcode_in(text, start, end):
        return end
    for _ in range(2):
        if end >= len(text):
            return None
        end = _line_end(text, end + 1)
        line = _short_line(text, end)
        if line is None:
            return None
        if _postcode_line(line):
            return end - len(line) + len(line.rstrip(" \t\"',"))
    return None


def _short_line(text: str, end: int) -> str | None:
    """The line that ends at `end` when it is neither blank nor longer than 48 characters (a line of an
    address below its label), copied only then."""
    start = line_index(text).start(end)
    line = text[start:end] if end - start <= 48 else ""
    return line if line.strip() else None


# A month's name before a number makes the number a date's year or day ("14 January 2027, Court Room 4"),
# not a house number.
_MONTH_BEFORE = re.compile(
    r"(?i)(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?[ \t]+(?:\d{1,2},?[ \t]+)?\Z"
)


def _streets(text: str, line_start: int, line_end: int) -> Iterator[Span]:
    number_after = _STREET_NUMBER.compiled.search(_lowered(text), line_start, line_end) is not None
    for m in (_STREET if number_after else _NUMBER_FIRST_STREET).finditer(text, line_start, line_end):
        start, end = m.start(), m.end()
        if text[start].isdigit() and _MONTH_BEFORE.search(text, max(line_start, start - 16), start):
            continue
        # A street is in one cell of a table: what comes before a gap is another cell, and without a
        # number of its own the rest is no street ("10h ago      apt-daily", a timer's age and unit).
        gaps = [g.end() for g in _CELL_GAP.finditer(text, start, end)]
        if gaps:
            start = gaps[-1]
            if not _DIGIT.search(text, start, end):
                continue
        # The rest of the street line, then the postcode and town on the same or the next line.
        if _postcode_in(text, end, line_end):
            end = line_end
        elif line_end < len(text):
            next_end = _line_end(text, line_end + 1)
            if _postcode_in(text, line_end + 1, next_end):
                end = next_end
        yield Span(start, end, "ADDRESS", 40)


# Names, addresses and identity numbers in scripts the prefilter cannot see (scripts.py): one search over a
# text that is not ASCII.
_SCRIPT_LABEL, _SCRIPT_WORD_FORMS = scripts.script_label(sorted(identity.LABELS - _LATIN1_IDENTITY_LABELS))
_SCRIPT_WORDS = Literals(_SCRIPT_WORD_FORMS)


def _script_street(text: str, m: re.Match[str]) -> Span | None:
    """The field around a street word, when it holds a number (and, in Han or kana, a second place word)."""
    start, end = scripts.field_start(text, m.start()), scripts.field_end(text, m.start())
    field = text[start:end]
    if not 8 <= len(field) <= 160 or not scripts.DIGIT.search(field):
        return None
    if not scripts.NON_LATIN_LETTER.search(field):
        return None
    if scripts.CJK_PLACES.match(m.group()) and len(scripts.CJK_PLACES.findall(field)) < 2:
        return None
    return Span(start, end, "ADDRESS", 40)


_SCRIPT_PERSON_LABELS = frozenset(label.lower() for label in scripts.PERSON_LABELS)


def _script_column(text: str, start: int, headers: set[int]) -> Iterator[Span | None]:
    """The names under a header line that holds a person's label in another script as a cell (once per
    line, in `headers`)."""
    line_start = line_index(text).start(start)
    if line_start in headers:
        return
    headers.add(line_start)
    line_end = _line_end(text, start)
    line = text[line_start:line_end]
    delimiter = max(",;\t|", key=line.count)
    cells = line.split(delimiter)
    columns = frozenset(i for i, cell in enumerate(cells) if cell.strip().lower() in _SCRIPT_PERSON_LABELS)
    if len(cells) >= 2:
        yield from _csv_people(text, line_end, delimiter, columns)


def _script_values(text: str, hits: Hits) -> Iterator[Span | None]:
    if text.isascii():
        return
    headers: set[int] = set()
    for start, _ in _SCRIPT_WORDS.spans(text):
        m = _SCRIPT_LABEL.match(text, start)
        if m is None:
            continue
        kind, end = m.lastgroup, m.end()
        if kind == "column":
            yield from _script_column(text, start, headers)
        elif kind in ("person", "agent", "title", "title_attached"):
            name = (scripts.THAI_NAME if kind == "title_attached" else scripts.NAME_AT).match(text, end)
            # Under a label the whole field is the name (not "名前空間: default" or a file name).
            if name and (kind not in ("person", "agent") or scripts.field_end(text, end) <= name.end()):
                yield Span(end, name.end(), "PERSON", 35)
        elif kind == "address":
            stop = scripts.field_end(text, end)
            if stop - end >= 6 and scripts.DIGIT.search(text, end, stop):
                yield Span(end, stop, "ADDRESS", 40)
        elif kind == "identity":
            yield _identity_after(text, m.group("identity"), end)
        elif kind == "honorific":
            before = scripts.NAME_BEFORE_HONORIFIC.search(text, max(0, m.start() - 5), m.start())
            if before:
                yield Span(before.start(), m.start(), "PERSON", 35)
        else:
            yield _script_street(text, m)


def _script_spans(text: str, hits: Hits) -> Iterator[Span]:
    return (span for span in _script_values(text, hits) if span is not None)


def _fields(text: str, hits: Hits) -> Iterator[Span]:
    """Values under a key that names their kind, in many languages (``fields.py``)."""
    return (Span(*found) for found in fields.find(text, _lowered(text)))


_POSITIONAL_HEAD = _Caseless(positional.HEAD)


def _positional(text: str, hits: Hits) -> Iterator[Span]:
    """Values named by their column in a statement's column list (``positional.py``): a person's name
    under a column that names a person, the other kinds as under any key (``fields.py``)."""
    scanned = 0
    for m in _matches(_POSITIONAL_HEAD, text, hits["positional"]):
        if m.start() < scanned:
            continue
        cells, scanned = positional.cells(text, m.end())
        for start, end, column in cells:
            if _PERSON_COLUMN.fullmatch(column):
                name = _name_at(text, start, 1, priority=fields.BOUNDED, limit=end)
                if name is not None and name.end == end:  # the whole value is the name
                    yield name
                continue
            found = fields.keyed(text, start, end, column)
            if found is not None:
                yield Span(*found)


def _letter_heads(text: str, hits: Hits) -> Iterator[Span]:
    """The recipient's name and address at the head of a postal letter (``letters.py``)."""
    return (Span(*found) for found in letters.find(text))


_B = "(?:^|[^a-zA-Z0-9])"  # a boundary before a word, for Hyperscan (whose \\b does not know "_name")
# Each detector's trigger: a superset of where its values start (Hyperscan syntax, see prefilter.py).
_TRIGGERS = (
    Trigger(
        "token",
        r"(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}|gh[pousr]_|github_pat_|xox[abprse][-.]|"
        rf"xapp-|[srp]k_(?:live|test)_|whsec_|AIza|sk-|eyJ|{_DER_KEY_HEADER}",
    ),
    Trigger("pem", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY"),
    Trigger("assignment", rf"(?:{_CREDENTIAL_NAMES})[\"']?[ \t]*(?::=|=>|[:=])", caseless=True, width=0),
    # A user of at most 128 characters and a password of at most 256: a window of known width, not the
    # line from its start, which on one long line was a search from the text's start.
    Trigger("url_password", r"://[^\s/:@]{0,128}:[^\s/@]{1,256}@", width=389),
    Trigger("bearer", r"(?:bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{16}", caseless=True),
    Trigger("credential_element", credentials.ELEMENT_TRIGGER, caseless=True, width=0),
    Trigger("credential_directive", credentials.DIRECTIVE_TRIGGER, width=0),
    Trigger("pgpass", credentials.PGPASS_TRIGGER, width=0),
    Trigger("credential_option", credentials.OPTION_TRIGGER, width=0),
    Trigger("hl7_segment", interchange.SEGMENT_TRIGGER, width=0),
    Trigger("ldap_dn", interchange.DN_TRIGGER, width=0),
    # Its start tracked, not its line's: an interchange is often one line of segments ended by "'", where a
    # search from the line's start per hit read the interchange once per segment.
    Trigger("edifact_segment", interchange.EDIFACT_TRIGGER),
    Trigger("email", r"@[A-Za-z0-9-]+\.[A-Za-z]"),
    Trigger("url_email", r"%40[A-Za-z0-9-]+\.[A-Za-z]"),
    Trigger("disguised_email", r"[\[({]at[\])}]", caseless=True),
    Trigger("card", r"(?:^|[^\d-])\d(?:[ _-]?\d){11}"),
    Trigger("dotted_card", r"\d{4}\.\d{4}\.\d{4}\.\d{4}"),
    Trigger("ssn", r"\d{3}[- ]\d{2}[- ]\d{4}"),
    Trigger("ssn_label", r"ssn|social security", caseless=True),
    Trigger(
        "identity_label",
        rf"(?:^|[^a-z0-9])(?:{_IDENTITY_TRIGGER})(?:[^a-z0-9]|$)",
        caseless=True,
        width=0,
    ),
    Trigger("identity_shape", identity.SHAPE_TRIGGER),
    Trigger("semantics_id", identity.SEMANTICS_TRIGGER),
    Trigger("iban", r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11}"),
    Trigger("ipv4", r"(?:^|[^\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d", width=13),
    # An IPv6 address has a "::" or eight groups, so three colons come early (a time has two).
    Trigger(
        "ipv6",
        r"(?:^|[^0-9a-zA-Z:.])(?:[0-9a-fA-F]{0,4}:){3}|(?:^|[^0-9a-zA-Z:.])(?:[0-9a-fA-F]{0,4}:)?[0-9a-fA-F]{0,4}::",
    ),
    # Eight digits after a "+", or with a separator among them (an unlabelled national number must
    # have one), or a digit after a phone label. The boundary leaves out starts glued to what is
    # before (_GLUED_BEFORE): a word character, ":", or a digit and a space or dash; and a letter
    # and a dash (an id: _ID_PREFIX).
    Trigger(
        "phone",
        r"(?:^[ \-]?|[^\w+: \-]|[^\d+] |[^A-Za-z\d+]-)(?:\+ ?\(?\d(?:[ ().\-/]{0,2}\d){7}|"
        + "|".join(
            rf"\(?\d{{{k}}}\)?[ ().\-/]{{1,2}}" + r"(?:\d[ ().\-/]{0,2})" * (7 - k) + r"\d"
            for k in range(1, 8)
        )
        + r"|\(?\d{8,14}\)?[ ().\-/]{1,2}\d)",
    ),
    Trigger("phone_label", rf"(?:{_PHONE_LABEL_WORDS})[^\d\n]{{0,24}}\d", caseless=True, width=0),
    Trigger(
        "e164_key",
        r"(?:dst|destination_addr|dest_addr|source_addr|msisdn)[\"']?[ \t]*[:=][ \t]*[\"']?\d",
        caseless=True,
    ),
    Trigger("base64ish", r"(?:^|[^A-Za-z0-9+/_=-])[A-Za-z0-9+/_-]{20}", width=21),
    Trigger("hexish", r"(?:^|[^0-9A-Za-z])[0-9a-fA-F]{32}", width=33),
    Trigger("person", rf"{_B}(?:{_ROLES}|{_GREETINGS}|{_CREDITS})[^a-z0-9\n]", caseless=True),
    Trigger(
        "sign_off",
        r"(?:regards|wishes|sincerely|cheers|thanks|thank you|cordialement|grüße|saludos|groeten|"
        r"hälsningar|mvh|pozdrawiam|saluti)[,!.]?[ \t]*\n",
        caseless=True,
    ),
    Trigger("title", r"(?:Mr|Mrs|Ms|Dr|Prof|Herr|Frau|Mme|Mlle|Sr|Sra|Sig|Dott)\.?[ \t]+[^\s\d]"),
    Trigger("display_name", r"[ \t]<[^>\s@]+@"),
    Trigger("person_slug", rf"/(?:{_PEOPLE_DIRECTORIES})/[a-z]+-[a-z]", caseless=True),
    Trigger(
        "manifest",
        r"[A-Z\xc0-\xde?]/[A-Z\xc0-\xde?][A-Z\xc0-\xde?' \-]{0,62} "
        r"(?:MRS?|MS|MSTR|MISS|DR|MX)(?:[^A-Za-z]|$)",
        width=71,  # given names of at most 63 characters; the surname before "/" is found by `back`
    ),
    Trigger(
        "speaker",
        r"\d:\d\d(?::\d\d)?(?:\]| -)[ \t]+[A-Z\xc0-\xde?]|> \d\d?:\d\d:\d\d[,.]\d\d\d\n[A-Z\xc0-\xde?]"
        r"|\n\d\d?:\d\d\t[A-Z\xc0-\xde?]",
        width=17,
    ),
    Trigger("shortlog", r"(?:^|\n) *\d{1,7}\t[A-Z\xc0-\xde?]", width=0),
    Trigger(
        "commit",
        r"(?:^|\n)\^?[0-9a-f]{7,40}[ \t]+(?:\d{4}-\d\d-\d\d[ T\t]|[^\s(]{0,120}[ \t]*\([A-Z\xc0-\xde?])",
        width=0,
    ),
    # The first names that the "first_name" literals do not find: a capitalised word ended by a tab,
    # or by a hyphen, apostrophe or "?" and more of the word, or one whose capital is "?" (outside
    # Latin-1); then a capitalised word. Rare, so its start is found again in Python (_CAPITAL).
    Trigger(
        "rare_first_name",
        r"(?:^|[^A-Za-z\xc0-\xff?'\-])"
        r"(?:[A-Z\xc0-\xde][a-z\xdf-\xff?]+(?:\t|[?'\-\xf7][a-z\xdf-\xff?'\-]*[ \t])"
        r"|\?[a-z\xdf-\xff?'\-]+[ \t])"
        rf"[ \t]*{_PARTICLES}[A-Z\xc0-\xde?]",
        width=0,
    ),
    # Only the header line matters, and a match ends on it: the hit is the last character.
    Trigger(
        "csv_header",
        rf"{_B}(?:{_ROLES})[^,;\t|\n]*[,;\t|]|[,;\t|][^,;\t|\n]*(?:{_ROLES})",
        caseless=True,
        width=1,
    ),
    Trigger(
        "address",
        r"address|adresse|anschrift|ship to|deliver to|moved to|lives at|wohnt in|location|indirizzo|"
        r"dirección|adres|cím|osoite",
        caseless=True,
    ),
    Trigger(
        "street",
        rf"\d{{1,5}}[a-z]?(?:[-/]\d{{1,5}})?,?[ \t]+(?:[^\s\d]+[ \t]+){{0,4}}[^\s\d]*"
        rf"(?:{_STREET_WORDS})(?:[^a-z]|$)"
        rf"|(?:{_STREET_WORDS})[ \t,]*\d",
        caseless=True,
        width=1,  # only its line matters (see _addresses)
    ),
    Trigger(
        "positional",
        r"insert[ \t]+(?:ignore[ \t]+)?into[ \t]|copy[ \t]+[^\s(]+[ \t]*\(",
        caseless=True,
        width=0,
    ),
    Trigger("division", divisions.TRIGGER, caseless=True, width=divisions.TRIGGER_WIDTH),
    Trigger("number_street", r"(?:^|[^\w.,:-])\d{1,5}[a-z]? [A-Z][a-z]+ [A-Z]", width=0),
    # A word, a comma and a space, then a postcode: the last field of _COMMA_ADDRESS.
    Trigger("comma_address", r"[^\s\d,][ \t]*,[ \t]+(?:[A-Z]{1,2}-)?\d{3}", width=0),
    # (Or after a flat's field: an abbreviation's full stop, "R/C".)
    Trigger(
        "street_postcode",
        r"(?:\d|\.|/[A-Za-z])(?:,[ \t]*|[ \t]*\n[ \t]*)(?:[A-Z]{1,2}-)?\d{3,5}"
        r"(?: ?\d\d|-\d{3})?[ \t]+[^\s\d]",
    ),
)
_WORD_LISTS = (Words("first_name", _FIRST_NAME_FORMS),)

MODEL_ADDRESS = "ADDRESS?"
"""The kind of the postal model's spans among the detectors' (``_model_addresses``): not a placeholder's
type. They stay out of the rules' overlap resolution and are weighed after it (``with_postal_addresses``)."""


_DIVISION_CHAIN = _Caseless(divisions.CHAIN)


def _division_chains(text: str, hits: Hits) -> Iterator[Span]:
    """Addresses written as a chain of administrative divisions (``divisions.py``)."""
    # Searched near each division word, not from its line's start to its end: on one long line (a JSON
    # document) that was a scan of the text per hit (4x the text took 870x the time).
    for m in _matches(_DIVISION_CHAIN, text, hits["division"], back=divisions.BEFORE, reach=divisions.AFTER):
        end = m.start() + len(m.group().rstrip(" -"))
        if divisions.chain(text[m.start() : end]):
            yield Span(m.start(), end, "ADDRESS", 40)


def _model_addresses(text: str, hits: Hits) -> Iterator[Span]:
    """The fields the postal model holds to be addresses (``postal.py``). A detector like the rules', so
    it runs in a detector process beside them (``workers.py``); which of its fields stay is decided once
    the rules' spans are chosen."""
    for start, end in postal.fields(text):
        yield Span(start, end, MODEL_ADDRESS, 40)


DETECTORS: tuple[Detector, ...] = (
    # The costs: CPU milliseconds per MB, each detector alone with its own triggers' scan, on the benchmark's
    # mixed and unrepeated texts (2026-12-02, after the IP addresses' server checks were made cheaper; the
    # text's lower case and line index made beforehand, as a group makes them once for all its detectors).
    # Only their shares of each text's total matter: they balance `groups`.
    Detector(_tokens, ("token", "pem"), (1, 1)),
    Detector(_assignments, ("assignment", "url_password", "bearer"), (2, 2)),
    Detector(
        _configured_credentials,
        ("credential_element", "credential_directive", "pgpass", "credential_option"),
        (1, 1),
    ),
    Detector(_interchange_names, ("hl7_segment", "ldap_dn", "edifact_segment"), (1, 1)),
    Detector(_emails, ("email", "url_email", "disguised_email"), (2, 2)),
    Detector(_cards, ("card", "dotted_card"), (5, 7)),
    Detector(_ssns, ("ssn", "ssn_label"), (1, 1)),
    Detector(_identities, ("identity_label", "identity_shape", "semantics_id"), (9, 10)),
    Detector(_ibans, ("iban",), (2, 2)),
    Detector(_ips, ("ipv4", "ipv6"), (11, 10)),
    Detector(_phones, ("phone", "phone_label", "e164_key"), (21, 57)),
    Detector(_high_entropy, ("base64ish", "hexish"), (9, 14)),
    Detector(
        _people,
        (
            "person",
            "sign_off",
            "title",
            "display_name",
            "person_slug",
            "manifest",
            "speaker",
            "shortlog",
            "commit",
            "rare_first_name",
            "csv_header",
            "first_name",
        ),
        (19, 24),
    ),
    Detector(
        _addresses, ("address", "street", "number_street", "comma_address", "street_postcode"), (18, 18)
    ),
    Detector(_script_spans, (), (2, 2)),
    Detector(_fields, (), (13, 13)),
    Detector(_positional, ("positional",), (1, 1)),
    Detector(_letter_heads, (), (1, 1)),
    Detector(_division_chains, ("division",), (1, 1)),
    Detector(_model_addresses, (), (16, 18)),
)


@functools.cache
def groups(count: int) -> tuple[tuple[int, ...], ...]:
    """DETECTORS split into at most `count` groups (indexes, in their order) so that the largest share of
    either benchmark text's cost that one group carries is as small as it can be: the group that takes
    longest sets the time of a text spread over the detector processes. A pure function of `count`, so a
    worker process and its caller agree on it. Fewer groups than `count` when more would not shorten the
    longest (the phone numbers' detector alone may be it).

    An exhaustive search with bounds (a few to 80 ms, once per process): the greedy split (the costliest
    detector first, each to the least loaded group) left one group a fifth above its fair share of the
    mixed text, and that group's time is the wall-clock time."""
    count = max(1, min(count, len(DETECTORS)))
    totals = [sum(d.cost[k] for d in DETECTORS) for k in (0, 1)]
    shares = [(d.cost[0] / totals[0], d.cost[1] / totals[1]) for d in DETECTORS]
    order = sorted(range(len(DETECTORS)), key=lambda i: -sum(shares[i]))
    loads = [[0.0, 0.0] for _ in range(count)]
    placed = [0] * len(DETECTORS)
    best, best_placed = 2.0, list(placed)  # every share is at most 1

    def place(position: int, worst: float) -> None:
        nonlocal best, best_placed
        if worst >= best:
            return  # no better than the best split found so far
        if position == len(order):
            best, best_placed = worst, list(placed)
            return
        index, tried_empty = order[position], False
        for group, load in enumerate(loads):
            if load == [0.0, 0.0]:
                if tried_empty:
                    continue  # empty groups are interchangeable: one of them is enough
                tried_empty = True
            load[0] += shares[index][0]
            load[1] += shares[index][1]
            placed[index] = group
            place(position + 1, max(worst, *load))
            load[0] -= shares[index][0]
            load[1] -= shares[index][1]

    place(0, 0.0)
    split = [tuple(i for i, g in enumerate(best_placed) if g == group) for group in range(count)]
    return tuple(members for members in split if members)


@functools.cache
def _group_prefilter(group: tuple[int, ...]) -> Prefilter:
    """The triggers of a group's detectors only (each trigger's hits do not depend on the others')."""
    names = {name for index in group for name in DETECTORS[index].triggers}
    return Prefilter([t for t in _TRIGGERS if t.name in names], [w for w in _WORD_LISTS if w.name in names])


def find_group_spans(text: str, group: tuple[int, ...]) -> list[list[Span]]:
    """The spans of the detectors in `group` (a member of ``groups(n)``), one list per detector, as
    `find_spans` would find them: what a worker process does (``workers.py``)."""
    hits = _group_prefilter(group).scan(text)
    return [list(DETECTORS[index].find(text, hits)) for index in group]


_EVERY_DETECTOR = tuple(range(len(DETECTORS)))
# Every detector's triggers: one scan in this process (every trigger is declared by its detector).
_PREFILTER = _group_prefilter(_EVERY_DETECTOR)


def find_spans(text: str) -> list[Span]:
    """Every detector's spans in `text`, overlapping ones included, in the order of DETECTORS."""
    return [span for spans in find_group_spans(text, _EVERY_DETECTOR) for span in spans]


def _outranks(a: Span, b: Span) -> bool:
    return (a.priority, a.end - a.start, -a.start) > (b.priority, b.end - b.start, -b.start)


_START, _END = itemgetter(0), itemgetter(1)


def _sweep(spans: list[Span]) -> tuple[list[Span], list[Span]]:
    """One sort by start, then one sweep that keeps, of each run of overlapping spans, the ones that
    outrank; and the spans it dropped for a span that was itself replaced later (only those may overlap
    nothing that stayed)."""
    chosen: list[Span] = []
    dropped: list[Span] = []
    pending: list[Span] = []  # dropped for the last chosen span, which may yet be replaced
    # By start, the longer first: two stable sorts on one field each (a C key function rather than a
    # Python one per span).
    ordered = sorted(spans, key=_END, reverse=True)
    ordered.sort(key=_START)
    last_end = -1  # where the last chosen span ends (a local, read for every span)
    for span in ordered:
        if span.start < last_end:
            if _outranks(span, chosen[-1]):
                dropped += pending
                dropped.append(chosen[-1])
                pending = []
                chosen[-1] = span
                last_end = span.end
            else:
                pending.append(span)
            continue
        if pending:
            pending = []
        chosen.append(span)
        last_end = span.end
    return chosen, dropped


def _select(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans, the most specific detector first, longer matches before shorter (`_sweep`).
    A span dropped for a wider one that a narrower one then replaced may overlap nothing that stayed (a
    name in the first cell of a row, dropped for an address guess across the row, which lost to the
    address in the second cell): one more sweep over those puts them back."""
    chosen, dropped = _sweep(spans)
    if not dropped:
        return chosen
    starts = [span.start for span in chosen]
    free = [span for span in dropped if not _overlaps(chosen, starts, span)]
    return sorted(chosen + _sweep(free)[0]) if free else chosen


def _overlaps(chosen: list[Span], starts: list[int], span: Span) -> bool:
    """Whether the span overlaps one of the chosen spans (sorted and disjoint; `starts` their starts)."""
    i = bisect.bisect_right(starts, span.start)
    return (i > 0 and chosen[i - 1].end > span.start) or (i < len(chosen) and chosen[i].start < span.end)


def _outside(ranges: list[tuple[int, int]], spans: Iterable[Span]) -> list[Span]:
    """The spans that lie inside none of the (start, end) ranges, which are sorted and disjoint."""
    # A bisection over the starts alone compares ints in C; one with a key function called Python for
    # each comparison (5 ms per MB of program output, in the caller's process after the detectors).
    starts = [start for start, _ in ranges]
    bisect_right = bisect.bisect_right
    kept: list[Span] = []
    for span in spans:
        i = bisect_right(starts, span.start) - 1
        if i < 0 or span.end > ranges[i][1]:
            kept.append(span)
    return kept


def with_postal_addresses(chosen: list[Span], model: list[Span]) -> list[Span]:
    """The chosen spans (sorted, disjoint) with the postal model's addresses where the rules found nothing,
    or only part of the address: an ADDRESS span it widens is replaced."""
    found = postal.left_by([(span.start, span.end) for span in model], chosen)
    if not found:
        return chosen
    kept = _outside(found, chosen)
    return sorted(kept + [Span(start, end, "ADDRESS", 40) for start, end in found])


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while finding or redacting a text (``Redactor.redact``, and a
    detector process's group: ``workers.py``), and left as it was: paused stays paused."""
    # A megabyte makes about 100,000 small objects (trigger hits, matches, spans) that live until the
    # redaction ends and hold no reference cycles (reference counting frees them). Each burst of
    # allocations set off the cyclic collector, which walked them all again: a tenth of the time.
    # It is paused for the call (and left as it was: paused stays paused). The switch is process-wide:
    # while a redaction runs in a worker thread (guards.py), the young collections that
    # core/collector.py leaves automatic wait for the loop too; cycles made meanwhile are collected by
    # the first one after the call, and the paced full collections (gc.collect) run regardless.
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class Redactor:
    """Redacts one task's texts; placeholders are a pure function of the key, the type and the value."""

    def __init__(
        self, key: bytes, find: Callable[[str], list[Span]] = find_spans, postal_model: bool = True
    ) -> None:
        # Keyed once: each placeholder is a copy of this HMAC fed its message (hmac.digest keyed SHA-256 anew
        # for every value, a third longer: 3 of the 7 ms per MB that the caller spends after the detectors).
        self._mac = hmac.new(key, digestmod="sha256")
        # In this process, or a text's detectors spread over worker processes (workers.DetectorPool).
        self._find = find
        # Its fields are found with the rules' spans; which stay depends on what the rules chose.
        self._postal_model = postal_model

    def placeholder(self, kind: str, value: str) -> str:
        mac = self._mac.copy()
        mac.update(f"{kind}\0{value}".encode())
        return f"[{kind}:{mac.digest()[:4].hex()}]"

    def redact(self, text: str) -> Redaction:
        """The text with every detected value replaced, and the number replaced per type."""
        with collector_paused():
            return self._redact(text)

    def _redact(self, text: str) -> Redaction:
        kept = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)] if "[" in text else []
        spans = self._find(text)
        if kept:
            spans = _outside(kept, spans)
        parts: list[str] = []
        counts: Counter[str] = Counter()
        # The same value recurs in program output: its placeholder (an HMAC) is computed once per text.
        placeholders: dict[tuple[str, str], str] = {}
        cursor = 0
        append = parts.append
        model = [span for span in spans if span.kind == MODEL_ADDRESS]
        chosen = _select([span for span in spans if span.kind != MODEL_ADDRESS] if model else spans)
        if self._postal_model and model:
            chosen = with_postal_addresses(chosen, model)
        for start, end, kind, _ in chosen:
            value = (kind, text[start:end])
            placeholder = placeholders.get(value)
            if placeholder is None:
                placeholder = placeholders[value] = self.placeholder(*value)
            append(text[cursor:start])
            append(placeholder)
            counts[kind] += 1
            cursor = end
        append(text[cursor:])
        return Redaction(text="".join(parts), counts=dict(counts))

    def redact_obj(self, value: object, counts: Counter[str] | None = None) -> object:
        """A copy of a JSON-like value with every string (keys kept) redacted; counts are added up."""
        counts = Counter() if counts is None else counts
        if isinstance(value, str):
            result = self.redact(value)
            counts.update(result.counts)
            return result.text
        if isinstance(value, dict):
            return {k: self.redact_obj(v, counts) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_obj(v, counts) for v in value]
        return value
