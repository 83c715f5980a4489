"""Layer 5: output filtering. Finds PII and secrets in text and replaces them with stable placeholders.

Detected types: EMAIL, PHONE (libphonenumber, several regions), CREDIT_CARD (known issuer prefix and
Luhn), SSN (valid US area/group/serial), IBAN (mod-97), IP_ADDRESS (v4 and v6, checked by ``ipaddress``),
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
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers
from pydantic import BaseModel

PHONE_REGIONS = ("US", "GB", "DE", "FR", "JP", "IN", "ES")
MIN_PHONE_DIGITS = 8
"""Shorter numbers are local extensions or postcodes more often than numbers that identify a person."""
PLACEHOLDER = re.compile(r"\[[A-Z_]+:[0-9a-f]{8}\]")
APP_SALT = b"level5-redaction-v1"
"""Mixed into every task key so placeholders differ from any other product using the same scheme."""


class Redaction(BaseModel):
    """Redacted text and how many values of each type were replaced."""

    text: str
    counts: dict[str, int]


@dataclass(frozen=True)
class Span:
    """A detected value: [start, end) in the text, its type, and how strongly it outranks overlaps."""

    start: int
    end: int
    kind: str
    priority: int


Detector = Callable[[str], Iterator[Span]]


def task_key(task_uid: str, operator_secret: bytes = b"") -> bytes:
    """The HMAC key of one task: stable across operator restarts, different for every task."""
    return hashlib.sha256(APP_SALT + operator_secret + b"\0" + task_uid.encode()).digest()


# -- checksums ---------------------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a digit string (payment cards)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN without spaces."""
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """US SSN ranges: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


def shannon_entropy(text: str) -> float:
    """Bits per character of the text's own character distribution."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


# -- detectors ---------------------------------------------------------------------------------------------


def _regex(kind: str, priority: int, pattern: str, group: int = 0, flags: int = 0) -> Detector:
    compiled = re.compile(pattern, flags)

    def detect(text: str) -> Iterator[Span]:
        for m in compiled.finditer(text):
            if m.group(group):
                yield Span(m.start(group), m.end(group), kind, priority)

    return detect


# Shapes of well-known credentials; the vendor prefixes make these precise, so they outrank the rest.
_TOKEN_SHAPES: tuple[tuple[str, str], ...] = (
    ("AWS_ACCESS_KEY", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b"),
    ("GITHUB_TOKEN", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    ("SLACK_TOKEN", r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    ("STRIPE_KEY", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("GOOGLE_API_KEY", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("OPENAI_KEY", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
    ("JWT", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,}"),
    # A key block, or its start when the output was cut off before the END line.
    (
        "PRIVATE_KEY",
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s:-]*)",
    ),
)

_CREDENTIAL_NAMES = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|"
    r"private[_-]?key|auth[_-]?key|credentials?|client[_-]?secret|session[_-]?id|cookie"
)
# key = value, key: value, "key": "value", KEY=value; the key must *end* in a secret word, so
# max_tokens=100 or password_hash=... are left alone.
_ASSIGNMENT = re.compile(
    rf"(?i)(?<![A-Za-z0-9])[\w.-]*(?:{_CREDENTIAL_NAMES})[\"']?\s*(?::=|=>|[:=])\s*"
    r"(?:\"(?P<dq>[^\"\n]{4,})\"|'(?P<sq>[^'\n]{4,})'|(?P<bare>[^\s\"',;)\]}]{4,}))"
)
_NOT_A_SECRET = re.compile(
    r"(?i)^(?:none|null|nil|true|false|undefined|required|optional|string|str|bytes|int|env|"
    r"\*+|x+|\.+|<[^>]*>|\$\{?\w+\}?|%\(?\w+\)?s?|\{\{?[^}]*\}\}?)$"
)
_BEARER = re.compile(r"(?i)\b(?:bearer|basic|token)\s+([A-Za-z0-9._~+/=-]{16,})")
_EMAIL = r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b"
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_CARD_PREFIX = re.compile(r"^(?:4|5[0-8]|2[2-7]|2131|1800|3[0-8]|6)")
_SSN = re.compile(r"(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])")
_SSN_LABELLED = re.compile(r"(?i)\b(?:ssn|social security(?: number| no\.?)?)\D{0,12}(\d{3})(\d{2})(\d{4})\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|(?:\d{1,3}\.){3}\d{1,3})(?![\w:])"
)
_DECIMAL = re.compile(r"-?\d+[.,]\d+")
_DATE = re.compile(r"\b(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2})\b")
_GLUED_BEFORE = re.compile(r"[\w:]$|\d[ -]$")
_GLUED_AFTER = re.compile(r"[\w:]|[.,]\d|[ -]\d")
_SEPARATED = re.compile(r"\d[\s().\-/]+\d")
_VERSION_BEFORE = re.compile(r"(?i)(?:\bv|\bversion\s*|\bver\.?\s*|\brelease\s*|==|>=|<=|~=|@)$")
_BASE64ISH = re.compile(r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_-]{20,}={0,2}(?![A-Za-z0-9+/_=-])")
_WORD_PIECES = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_HEXISH = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])")
_HASH_LABEL = re.compile(
    r"(?i)(?:sha-?(?:1|224|256|384|512)?|md5|blake2?b?|digest|hash|checksum|commit|rev(?:ision)?|"
    r"etag|integrity|fingerprint|object|tree|parent|oid)\b[^\n]{0,24}$"
)
_SHA_SUM_LINE = re.compile(r"^ [ *]\S")


_TOKEN_DETECTORS = tuple(_regex(kind, 90, pattern) for kind, pattern in _TOKEN_SHAPES)


def _tokens(text: str) -> Iterator[Span]:
    for detect in _TOKEN_DETECTORS:
        yield from detect(text)


def _assignments(text: str) -> Iterator[Span]:
    for m in _ASSIGNMENT.finditer(text):
        group = next(g for g in ("dq", "sq", "bare") if m.group(g) is not None)
        value = m.group(group)
        # Code, not data: a call, an index, an attribute chain of a variable, or a placeholder.
        if _NOT_A_SECRET.match(value) or PLACEHOLDER.fullmatch(value) or re.search(r"[(\[]", value):
            continue
        if group == "bare" and re.fullmatch(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+", value):
            continue
        yield Span(m.start(group), m.end(group), "SECRET", 70)
    for m in _BEARER.finditer(text):
        yield Span(m.start(1), m.end(1), "BEARER_TOKEN", 75)


def _cards(text: str) -> Iterator[Span]:
    for m in _CARD.finditer(text):
        raw = m.group()
        digits = re.sub(r"\D", "", raw)
        groups = re.split(r"[ -]", raw)
        # Separators, when present, split the number into card-like groups (4-4-4-4, 4-6-5...).
        grouped = len(groups) == 1 or (len(groups) <= 5 and all(3 <= len(g) <= 6 for g in groups))
        if 13 <= len(digits) <= 19 and grouped and _CARD_PREFIX.match(digits) and luhn_ok(digits):
            yield Span(m.start(), m.end(), "CREDIT_CARD", 80)


def _ssns(text: str) -> Iterator[Span]:
    for pattern in (_SSN, _SSN_LABELLED):
        for m in pattern.finditer(text):
            area, group, serial = (m.group(i) for i in ((1, 3, 4) if pattern is _SSN else (1, 2, 3)))
            if ssn_ok(area, group, serial):
                start = m.start() if pattern is _SSN else m.start(1)
                yield Span(start, m.end(), "SSN", 78)


def _ibans(text: str) -> Iterator[Span]:
    for m in _IBAN.finditer(text):
        if iban_ok(m.group().replace(" ", "")):
            yield Span(m.start(), m.end(), "IBAN", 85)


def _ips(text: str) -> Iterator[Span]:
    for m in _IPV4.finditer(text):
        if _VERSION_BEFORE.search(text[max(0, m.start() - 12) : m.start()]):
            continue
        if _valid_ip(m.group()):
            yield Span(m.start(), m.end(), "IP_ADDRESS", 60)
    for m in _IPV6.finditer(text):
        candidate = m.group()
        # Times (12:30:45), C++/Rust paths (a::b) and MAC-like digit runs are not addresses.
        hex_groups = sum(1 for g in candidate.split(":") if g)
        if (
            (hex_groups >= 3 or "::" in candidate)
            and re.search(r"[a-fA-F]|::", candidate)
            and _valid_ip(candidate)
        ):
            yield Span(m.start(), m.end(), "IP_ADDRESS", 60)


def _valid_ip(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def _phones(text: str) -> Iterator[Span]:
    for region in PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
            raw = match.raw_string
            before, after = text[max(0, match.start - 2) : match.start], text[match.end : match.end + 2]
            # Pieces of ids (UUIDs, hex), times, decimals and longer digit groups are not numbers to call.
            glued = bool(_GLUED_BEFORE.search(before) or _GLUED_AFTER.match(after))
            if glued or len(re.sub(r"\D", "", raw)) < MIN_PHONE_DIGITS or _DECIMAL.fullmatch(raw):
                continue
            # An explicit international prefix is strong evidence; a national number must be valid in the
            # region and written the way people write phone numbers (a bare run of digits is more often a
            # count, an id or a date).
            international = raw.startswith("+")
            national = phonenumbers.is_valid_number(match.number) and _SEPARATED.search(raw) is not None
            if (international or national) and not _DATE.search(raw):
                yield Span(match.start, match.end, "PHONE", 50)


def _high_entropy(text: str) -> Iterator[Span]:
    for m in _BASE64ISH.finditer(text):
        token = m.group()
        # Random tokens mix cases with digits or symbols and change case every couple of characters;
        # identifiers and paths are words joined together (long pieces) or all lower case.
        mixed = all(re.search(p, token) for p in (r"[a-z]", r"[A-Z]", r"[\d+/_=-]"))
        pieces = _WORD_PIECES.findall(token)
        wordy = sum(map(len, pieces)) / max(len(pieces), 1) >= 3.5
        threshold = min(4.3, math.log2(len(token)) - 0.9)
        if mixed and not wordy and shannon_entropy(token) >= threshold:
            yield Span(m.start(), m.end(), "HIGH_ENTROPY", 20)
    for m in _HEXISH.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        labelled = _HASH_LABEL.search(text[line_start : m.start()]) or _SHA_SUM_LINE.match(
            text[m.end() : m.end() + 3]
        )
        if not labelled and shannon_entropy(m.group().lower()) >= 3.0:
            yield Span(m.start(), m.end(), "HIGH_ENTROPY", 20)


DETECTORS: tuple[Detector, ...] = (
    _tokens,
    _assignments,
    _regex("EMAIL", 88, _EMAIL),
    _cards,
    _ssns,
    _ibans,
    _ips,
    _phones,
    _high_entropy,
)


def _select(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans, the most specific detector first, longer matches before shorter."""
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (-s.priority, -(s.end - s.start), s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


class Redactor:
    """Redacts one task's texts; placeholders are a pure function of the key, the type and the value."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def placeholder(self, kind: str, value: str) -> str:
        digest = hmac.new(self._key, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()
        return f"[{kind}:{digest[:8]}]"

    def redact(self, text: str) -> Redaction:
        """The text with every detected value replaced, and the number replaced per type."""
        kept = {(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)}
        spans = [
            s
            for detect in DETECTORS
            for s in detect(text)
            if not any(a <= s.start and s.end <= b for a, b in kept)
        ]
        parts: list[str] = []
        counts: Counter[str] = Counter()
        cursor = 0
        for span in _select(spans):
            parts += [text[cursor : span.start], self.placeholder(span.kind, text[span.start : span.end])]
            counts[span.kind] += 1
            cursor = span.end
        parts.append(text[cursor:])
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
