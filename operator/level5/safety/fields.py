"""Values found by the field they sit in: a key that names what a value is, in the languages people write.

Program output prints personal data as fields: a CSV or TSV column under a native header (``Morada``,
``Адреса``, ``CNP``), a logfmt or JSON key (``addr="..."``, ``ssn="..."``), a form line
(``Telefón: 0949960507``), a phrase in prose (``please ship to ... .``, ``you can reach me on ...``), a
record printer's field (Go's ``&{Address:... Phone:...}``, a toString's ``(address=..., phone=...)``,
C#'s ``{ Phone = ... }``, PHP's ``[phone] => ...``, Perl's and Ruby's ``'phone' => ...``, an XML element
``<phone>...</phone>``). Keys joined in CamelCase (``PhoneNumber``, ``HomeAddress``) are keys too. An
unquoted value ends at the record's next field (an identifier glued to ":" or "=" and to its value, or
after a comma) or its closing bracket. The key says what the value is; the value is then checked for its
kind's shape:

- an address: a word of three letters or more and a digit (a house number or a postcode), 6 to 160
  characters; in prose, up to the end of the sentence; under a key that ends its line, the next short
  lines that are not fields of their own;
- a phone number: 8 to 15 digits written with phone punctuation only, which libphonenumber finds possible
  in at least one of ``PHONE_REGIONS`` (the key vouches for it, so a bare national digit run is taken);
- an identity number: valid in the format the key names, or in any format after a generic key
  (``identity.labelled_valid``; ``ssn`` names the US number, so another country's number under it must
  not have the US shape);
- a card number: 12 to 19 digits passing Luhn, any issuer prefix (ПРОСТІР cards start with 9, Troy and
  Belkart too: schemes the unlabelled card detector does not take, since one digit run in ten passes Luhn).

The kinds outrank the context detectors' wider guesses for the same place (an address label whose value
was taken to the end of the line), so the field's own extent wins; a value that its field bounds (quotes,
a cell, a record's next field, a closing tag) also outranks the guesses inside it (``BOUNDED``: a
postcode that parses as a phone number). Words are matched on the lower-cased
text; a key is a whole word (``tel`` in ``hotel`` is not one).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator

import hyperscan
import phonenumbers
from stdnum import luhn

from level5.safety import identity
from level5.safety.lines import line_index
from level5.safety.placeholders import PLACEHOLDER
from level5.safety.prefilter import Prefilter, Trigger

PHONE_REGIONS = (
    "DE",
    "GB",
    "FR",
    "IT",
    "ES",
    "PT",
    "CZ",
    "SK",
    "FI",
    "RO",
    "AT",
    "UA",
    "MK",
    "AU",
    "CL",
    "US",
)
"""Regions in which a labelled digit run must be a possible number (the national lengths of most of
Europe, the Americas and Oceania)."""

# Keys per kind, lower case: English and the languages of the locales the corpora print (Czech, Slovak,
# Romanian, Finnish, Italian, Portuguese, German, Spanish, Macedonian, Ukrainian...).
ADDRESS_KEYS = (
    "address", "addr", "postal address", "home address", "street address", "adresse", "anschrift", "adresa",
    "adresă", "adres", "morada", "endereço", "indirizzo", "dirección", "direccion", "domicilio", "osoite",
    "cím", "адреса", "адрес", "ship to", "deliver to", "send to", "lives at", "moved to",
    "street", "street line", "address line", "straße", "strasse", "ulica",
    "adresse de livraison", "adresse de facturation", "livrer à", "dirección de envío",
    "indirizzo di consegna",
)  # fmt: skip
PHONE_KEYS = (
    "tel", "phone", "telephone", "telefon", "telefono", "telefone", "telefón", "teléfono", "mobile", "mobil",
    "handy", "cell", "gsm", "puhelin", "matkapuhelin", "телефон", "тел", "reach me on", "reach me at",
    "phone number", "phone no", "mobile number", "telephone number", "cell phone",
    "call me on", "call me at", "mob", "whatsapp", "celular", "móvil", "movil", "portable", "cellulare",
    "msisdn",
)  # fmt: skip
CARD_KEYS = (
    "card", "card number", "credit card", "číslo karty", "numero carta",
    "número do cartão", "número de tarjeta", "numărul cardului", "kartennummer", "kortin numero",
    "номер картки", "номер картка", "број на картичка",
)  # fmt: skip
# Identity keys: the formats' names and generic words (identity.py), "ssn", and native names that the
# formats' documentation does not give.
_IDENTITY_KEYS = (*sorted(identity.LABELS), "ssn", "sv-nummer", "sv nummer")
_PROSE_ADDRESS_KEYS = frozenset({"ship to", "deliver to", "send to", "lives at", "moved to"})


_JOINS = str.maketrans("", "", " _-")


def _normal(key: str) -> str:
    """A key as the tables hold it: lower case, without the spaces, "_" and "-" that join its words
    ("credit_card", "SV-Nummer", and a record printer's "CardNumber" lower-cased)."""
    return key.lower().translate(_JOINS)


_KEYS: dict[str, str] = {
    k: kind
    for keys, kind in (
        (_IDENTITY_KEYS, "SSN"),
        (ADDRESS_KEYS, "ADDRESS"),
        (PHONE_KEYS, "PHONE"),
        (CARD_KEYS, "CREDIT_CARD"),
    )
    for k in keys
}
_KIND_OF = {_normal(k): kind for k, kind in _KEYS.items()}
# The keys in Latin-1 are found by one Hyperscan pass over the lower-cased text (a Python alternation of
# them cost 150 ms per MB), the others (Cyrillic, Greek, Han...) by one search that skips Latin-1 text.
_LATIN1_KEYS = [k for k in _KEYS if all(ord(c) < 256 for c in k)]
_KEY_SCAN = Prefilter(
    (
        Trigger(
            "key",
            r"(?:^|[^a-z0-9\xdf-\xff?])(?:"
            + "|".join(re.escape(k).replace(r"\ ", "[ _-]?") for k in _LATIN1_KEYS)
            + ")",
        ),
    )
)
_OTHER_KEYS = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
_OTHER_KEYS.compile(
    expressions=[
        re.escape(k).replace(r"\ ", "[ _-]?").encode() for k in sorted(set(_KEYS) - set(_LATIN1_KEYS))
    ],
    flags=hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_SOM_LEFTMOST,
)
_OTHER_SCRATCH = threading.local()


def _other_keys(lowered: str) -> Iterator[tuple[int, int]]:
    """(start, end) in characters of the keys outside Latin-1: one Hyperscan pass over the UTF-8 bytes (a
    Python alternation of them cost 45 ms per MB), its few hits mapped back to characters in one sweep."""
    scratch = getattr(_OTHER_SCRATCH, "scratch", None)
    if scratch is None:
        scratch = _OTHER_SCRATCH.scratch = hyperscan.Scratch(_OTHER_KEYS)
    data = lowered.encode()
    found: list[tuple[int, int]] = []

    def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
        found.append((start, end))

    _OTHER_KEYS.scan(data, match_event_handler=on_match, scratch=scratch)
    byte, char = 0, 0
    for start, end in sorted(found):
        char += len(data[byte:start].decode())
        byte = start
        yield char, char + len(data[start:end].decode())


_KEY_FIRST = frozenset(k[0] for k in _KEYS)
_PRIORITY = {"ADDRESS": 41, "PHONE": 51, "SSN": 81, "CREDIT_CARD": 81}
"""Each a step above the context detector of the same kind (redaction.py): the key says what a value is,
so an identity number under its key is not a card number that happens to pass Luhn."""

# After a key: a closing quote or bracket, then ":" or "=" (a form, logfmt, JSON, YAML) or "=>" (PHP's
# print_r "[phone] => ...", Perl's and Ruby's hashes), then an opening quote; or the ">" of an XML
# element's tag ("<phone>...</phone>").
_AFTER_KEY = re.compile(r"(?P<sep>>)|[\"'\]]?[ \t]*(?P<sep2>=>|[:=]?)[ \t]*(?P<quote>[\"']?)")
_PHONE_VALUE = re.compile(r"\+?\(?\d[\d ().\-/]{6,20}\d(?![\w])")
_IDENTITY_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9./-]{5,24}(?![\w])")
_PHONE_CHARS = re.compile(r"\+?[\d ().\-/]+")
_DIGITS = re.compile(r"\d")
_PLACEHOLDER_TAIL = re.compile(r":[0-9a-f]{8}\]")
_PLACE_WORD = re.compile(r"(?<![\w])[^\W\d_]{3,}(?![\w])")
"""A word of three letters or more (a street or a town), which a hex id or a code does not hold."""
# A sentence ends at a full stop after a word of four letters or more, a digit or a bracket, before a
# capital or the end of the line ("Nr. 81", "St. Kilda" are abbreviations, not ends); or at ";".
_SENTENCE_END = re.compile(r"(?:(?<=[^\W\d_]{4})|(?<=[\d)]))\.(?=[ \t]+[^\W\d_a-z]|[ \t]*$)|;", re.M)
_CSV_DELIMITERS = ",;\t|"
_CELL_END = frozenset([*_CSV_DELIMITERS, "\n", "", '"', "'", " "])
_NOT_BLANK = re.compile(r"\S")


def _kind(key: str) -> str | None:
    return _KIND_OF.get(_normal(key))


def _keys(lowered: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, key) of each key in the lower-cased text that is a whole word, the longest at a place."""
    by_start: dict[int, int] = {}
    for start, end in _KEY_SCAN.scan(lowered)["key"]:
        if lowered[start : start + 1] not in _KEY_FIRST:
            start += 1
        if end < len(lowered) and (lowered[end].isalnum() or lowered[end] == "_"):
            continue
        if _PLACEHOLDER_TAIL.match(lowered, end):  # the kind of a placeholder ("[IP_ADDRESS:...]")
            continue
        if end > by_start.get(start, -1) and (lowered[start:end] in _KEYS or _kind(lowered[start:end])):
            by_start[start] = end
    if not lowered.isascii():
        for start, end in _other_keys(lowered):
            before = lowered[start - 1 : start]
            after = lowered[end : end + 1]
            if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
                by_start[start] = max(end, by_start.get(start, -1))
    for start in sorted(by_start):
        yield start, by_start[start], lowered[start : by_start[start]]


# A record printer's next field after an unquoted value: Go's %+v (``&{Name:Ann Lee Phone:+1 202...}``),
# Kotlin's, Lombok's and Java records' toString (``Customer(name=Ann Lee, phone=...)``, ``[...]``): after a
# space (or a comma and a space), an identifier glued to ":" or "=" and to its value; or the brackets
# that close the record. A word glued to ":" followed by a space ("Flat 3, Floor: 2") is left alone.
_NEXT_KEY = re.compile(r",?[ \t]+[^\W\d][\w.-]*[:=](?=[^\s:=/])")
# Inside a record, also a comma and a key spaced from its separator (C#'s "Person { Name = Ann Lee, Phone =
# ... }", Ruby's "name: ..."), and the closing brackets.
_NEXT_FIELD = re.compile(
    rf"{_NEXT_KEY.pattern}|,[ \t]*[^\W\d][\w.-]*[ \t]*(?:=>|[:=])[ \t]|[}})\]]+(?=[\s,;}})\]]|$)"
)
_VALUE_REACH = 200
"""How far a record's next field is looked for after a value starts (an address is 160 at most)."""
_RECORD_REACH = 300
"""How far before a key an open bracket makes it a record's field (a bound, so a long line stays linear)."""


def _in_record(text: str, line_start: int, key_start: int) -> bool:
    """Whether the key stands inside brackets opened earlier on its line (a printed struct or object)."""
    before = text[max(line_start, key_start - _RECORD_REACH) : key_start]
    opened = before.count("{") + before.count("(") + before.count("[")
    return opened > before.count("}") + before.count(")") + before.count("]")


def _value_end(text: str, start: int, quote: str, sep: str, record: bool) -> tuple[int, bool]:
    """Where a field's value ends: its closing quote, the next field of a record (or a glued "Key:"), the
    next space after "=" (logfmt), or its line; and whether something other than the line ended it."""
    line_end = line_index(text).end(start)
    if quote or sep == ">":  # a quoted value, or an XML element's up to its closing tag
        close = text.find(quote or "<", start, line_end)
        return (line_end, False) if close == -1 else (close, True)
    if record or sep in (":", "=>"):
        # No value is longer than an address (160): the search stops there, so a long line stays linear.
        m = (_NEXT_FIELD if record else _NEXT_KEY).search(text, start, min(line_end, start + _VALUE_REACH))
        if m is not None:
            return m.start(), True
    if sep == "=" and not record:
        space = re.compile(r"[\s,;]").search(text, start, line_end)
        return (line_end, False) if space is None else (space.start(), True)
    return line_end, False


# Program output repeats its values (a log line per request): a verdict, a pure function of its strings,
# is kept.
@functools.lru_cache(maxsize=4096)
def _valid(kind: str, key: str, value: str) -> bool:
    if PLACEHOLDER.search(value):  # redacted already (redaction is idempotent)
        return False
    if kind == "ADDRESS":
        return 6 <= len(value) <= 160 and bool(_DIGITS.search(value)) and bool(_PLACE_WORD.search(value))
    if kind == "PHONE":
        return _PHONE_CHARS.fullmatch(value) is not None and _possible_phone(value)
    if kind == "CREDIT_CARD":
        digits = re.sub(r"[ -]", "", value)
        return digits.isdigit() and 12 <= len(digits) <= 19 and luhn.is_valid(digits)
    if key == "ssn":  # the US number is the redactor's own check; any other under this key is national
        compact = re.sub(r"\D", "", value)
        return len(compact) != 9 and identity.labelled_valid(value, "national id")
    return identity.labelled_valid(value, key)


def _possible_phone(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    if not 8 <= digits <= 15:
        return False
    for region in (None,) if value.startswith("+") else PHONE_REGIONS:
        try:
            if phonenumbers.is_possible_number(phonenumbers.parse(value, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


Found = tuple[int, int, str, int]
"""(start, end, kind, priority) of a value."""


BOUNDED = 86
"""The priority of a value whose field bounds it (quotes, a cell, a record's next field): the key says
what it is and the bounds where it ends, so it outranks what the unkeyed detectors find inside it (an
address's postcode that parses as a phone number); only e-mail addresses and credential shapes (88,
90) stand above it."""


_RAW_REACH = 2 * _VALUE_REACH
"""The longest field read, padding included: a longer one holds no valid value (an address is 160 at
most), and copying the rest of a long line for every key on it made the time quadratic."""


def _found(text: str, start: int, end: int, kind: str, key: str, bounded: bool = False) -> Found | None:
    if end - start > _RAW_REACH:
        return None
    raw = text[start:end]
    value = raw.strip(" \t,.\"'")
    start += raw.index(value) if value else 0
    if value and _valid(kind, key, value):
        return (start, start + len(value), kind, BOUNDED if bounded else _PRIORITY[kind])
    return None


def keyed(text: str, start: int, end: int, key: str) -> Found | None:
    """The value in text[start:end], bounded by its field, when `key` names a kind and the value is one
    (a positional value under its column's name: ``positional.py``)."""
    kind = _kind(key)
    return None if kind is None else _found(text, start, end, kind, key, bounded=True)


def find(text: str, lowered: str) -> Iterator[Found]:
    """Every value under a key in `text` (`lowered` is the text in lower case, offset for offset)."""
    headers: set[int] = set()
    line_start_of = line_index(text).start
    kinds: dict[str, str] = {}  # a key as written -> its kind (the same few keys recur)
    for key_start, key_end, key in _keys(lowered):
        kind = kinds.get(key)
        if kind is None:
            kind = kinds[key] = _KIND_OF[_normal(key)]
        line_start = line_start_of(key_start)
        if line_start not in headers and _is_header_cell(text, line_start, key_start, key_end):
            headers.add(line_start)
            yield from _columns(text, line_start)
            continue
        after = _AFTER_KEY.match(text, key_end)
        if after is None:  # pragma: no cover - the pattern matches the empty string
            continue
        start, sep, quote = after.end(), after.group("sep") or after.group("sep2"), after.group("quote") or ""
        if sep == ">" and text[key_start - 1 : key_start] != "<":
            continue  # a comparison, not an element's tag
        if kind == "ADDRESS" and not quote and sep != "=":  # ":", "=>" or none
            start = _address_start(text, start, key)
        if sep or quote:
            record = not quote and sep in (":", "=", "=>") and _in_record(text, line_start, key_start)
            end, bounded = _value_end(text, start, quote, sep, record)
            if kind == "ADDRESS" and not quote and not bounded:
                end = _continued(text, end)
            found = _found(text, start, end, kind, key, bounded)
        elif kind != "ADDRESS" or key in _PROSE_ADDRESS_KEYS:
            found = _prose_value(text, start, kind, key)
        else:
            found = None
        if found is not None:
            yield found


# A line that goes on with an address: short, and not a field of its own ("Telefon: ...").
_CONTINUATION = re.compile(r"[ \t]*(?![^\n:=]{1,30}[:=])[^\n]*?\S[^\n]*?(?=\n|$)")
_LINE_MAX = 48


def _continued(text: str, end: int) -> int:
    """The end of an address that ends its line: the next lines too (three at most), while they go on
    with it ("Address: Flat 32z" then "Robert Terrace", "Ameliaberg", "PL8Y 6PL")."""
    for _ in range(3):
        if not text.startswith("\n", end):
            break
        m = _CONTINUATION.match(text, end + 1)
        if m is None or m.end() - m.start() > _LINE_MAX:
            break
        end = m.end()
    return end


def _address_start(text: str, start: int, key: str) -> int:
    """Where an address under a key that ends its line starts: the next line; after a recipient key
    ("Ship to: Anna Kowalczyk"), the rest of its line without a digit is the recipient's name, and the
    address starts below it."""
    line_end = line_index(text).end(start)
    if line_end == len(text):
        return start
    if _NOT_BLANK.search(text, start, line_end) is None:  # a heading: the address is below it, whole
        return line_end + 1
    if key in _PROSE_ADDRESS_KEYS and not _DIGITS.search(text, start, line_end):
        below = _CONTINUATION.match(text, line_end + 1)
        if below is not None and _DIGITS.search(below.group()):
            return line_end + 1
    return start


def _prose_value(text: str, start: int, kind: str, key: str) -> Found | None:
    """A value after its key in running text: a digit group, or an address to its sentence's end."""
    if kind == "ADDRESS":
        if start >= len(text) or not (text[start].isupper() or text[start].isdigit()):
            return None
        line_end = line_index(text).end(start)
        stop = _SENTENCE_END.search(text, start, line_end)
        return _found(text, start, _continued(text, line_end) if stop is None else stop.start(), kind, key)
    m = (_PHONE_VALUE if kind != "SSN" else _IDENTITY_VALUE).match(text, start)
    return None if m is None else _found(text, m.start(), m.end(), kind, key)


def _cells(line: str, delimiter: str) -> list[tuple[int, int]]:
    """(start, end) of each cell's content in a delimited line, inside its quotes when quoted."""
    cells: list[tuple[int, int]] = []
    i = 0
    while i <= len(line):
        if line.startswith('"', i):
            close = i + 1
            while True:
                close = line.find('"', close)
                if close == -1 or not line.startswith('""', close):
                    break
                close += 2
            close = len(line) if close == -1 else close
            cells.append((i + 1, close))
            nxt = line.find(delimiter, close)
        else:
            nxt = line.find(delimiter, i)
            cells.append((i, len(line) if nxt == -1 else nxt))
        if nxt == -1:
            break
        i = nxt + 1
    return cells


def _delimiter(line: str) -> str:
    return max(_CSV_DELIMITERS, key=line.count)


def _is_header_cell(text: str, line_start: int, start: int, end: int) -> bool:
    """Whether the key fills a cell of a delimited header line (two delimiters at least)."""
    if text[end : end + 1] not in _CELL_END:  # the common case, a key followed by its value
        return False
    line_end = line_index(text).end(end)
    delimiter, count = _line_delimiter(text, line_start, line_end)
    if count < 2:
        return False
    padding = " \t\"'".replace(delimiter, "")  # a tab is padding, unless it is the delimiter (TSV)
    # The characters next to the cell, past its padding, read in place: copying the line's ends was
    # quadratic on one long line.
    before = start
    while before > line_start and text[before - 1] in padding:
        before -= 1
    after = end
    while after < line_end and text[after] in padding:
        after += 1
    return (before == line_start or text[before - 1] == delimiter) and (
        after == line_end or text[after] == delimiter
    )


_last_delimiter: tuple[str, int, int, tuple[str, int]] | None = None


def _line_delimiter(text: str, line_start: int, line_end: int) -> tuple[str, int]:
    """The delimiter of text[line_start:line_end] (a line) and how often it occurs there; the last line's
    answer is kept, as the keys of one line ask in turn (counting a long line per key was quadratic)."""
    global _last_delimiter
    last = _last_delimiter
    if last is not None and last[0] is text and last[1:3] == (line_start, line_end):
        return last[3]
    line = text[line_start:line_end]
    delimiter = _delimiter(line)
    answer = (delimiter, line.count(delimiter))
    _last_delimiter = (text, line_start, line_end, answer)
    return answer


def _columns(text: str, line_start: int) -> Iterator[Found]:
    """The values below a header line in the columns whose header is a key, until the rows stop."""
    line_end = text.find("\n", line_start)
    if line_end == -1:
        return
    header = text[line_start:line_end]
    delimiter = _delimiter(header)
    kinds: dict[int, tuple[str, str]] = {}
    for index, (a, b) in enumerate(_cells(header, delimiter)):
        key = header[a:b].strip().lower()
        kind = _kind(key)
        if kind is not None:
            kinds[index] = (kind, key)
    cursor = line_end + 1
    while kinds and cursor < len(text) and text[cursor] != "\n":
        end = text.find("\n", cursor)
        end = len(text) if end == -1 else end
        row = text[cursor:end]
        if delimiter not in row:
            break
        for index, (a, b) in enumerate(_cells(row, delimiter)):
            if index in kinds:
                found = _found(text, cursor + a, cursor + b, *kinds[index], bounded=True)
                if found is not None:
                    yield found
        cursor = end + 1
