"""National identity numbers of many countries, validated by their own check digits (python-stdnum).

Weighed: python-stdnum (about 50 personal-number formats with their checksums and embedded dates, pure
Python, no dependencies, maintained since 2010), Presidio's recognisers (about 15 national formats, most
of them a regular expression and a context word list, and it needs spaCy), and hand-written validators
(one per country to write and keep). stdnum does the validation; this module decides where to ask it.

Two ways a value is taken as an identity number:
- **Under a label** that names one (``BSN:``, ``"national_id": ``, ``PESEL``, ``ИНН``, ``身份证号``): the
  value after it must be valid for at least one of the formats in ``MODULES``. The labels are generated
  from the formats themselves (each stdnum module's own name and abbreviations, such as
  ``Burgerservicenummer``, ``Rodné číslo``, ``ИНН``) plus a short list of generic words for "identity
  number" in several languages.
- **Without a label**, only in the shapes a format prints and that little else has (``SHAPES``): a CPF as
  ``123.456.789-09``, a Swiss AHV number as ``756.1234.5678.97``, a Swedish personnummer as
  ``811218-9876``, a codice fiscale, a CURP, a Chinese resident number of 18 digits, a Thai number as
  ``1-2345-67890-12-3``... Each shape is checked only against the formats it belongs to. A bare digit run
  under no label is never taken: a random 11-digit number passes one of the 11-digit checksums about one
  time in five, so order ids, SKUs and counters would be altered.
"""

from __future__ import annotations

import functools
import importlib
import re
import unicodedata
from types import ModuleType

from stdnum import numdb
from stdnum.exceptions import InvalidLength, ValidationError

# Personal identity numbers (not company or VAT numbers). Formats that accept any 8 digits (Argentine
# DNI, Peruvian CUI) or half of all 13-digit numbers (Pakistani CNIC) are left out: a check that almost
# never fails is no evidence, even under a label.
MODULES: tuple[str, ...] = (
    "at.vnr", "au.tfn", "be.nn", "bg.egn", "br.cpf", "ca.sin", "ch.ssn", "cl.rut", "cn.ric", "cz.rc",
    "de.idnr", "dk.cpr", "ec.ci", "ee.ik", "es.dni", "es.nie", "fi.hetu", "fr.nir", "gb.nhs", "gr.amka",
    "hr.oib", "id.nik", "ie.pps", "il.idnr", "in_.aadhaar", "in_.pan", "is_.kennitala", "it.codicefiscale",
    "kr.rrn", "lt.asmens", "lv.pvn", "mx.curp", "my.nric", "nl.bsn", "no.fodselsnummer", "pl.pesel",
    "ro.cnp", "ru.inn", "se.personnummer", "si.emso", "sk.rc", "th.pin", "tr.tckimlik", "ua.rntrc",
    "us.ssn", "za.idnr", "ar.cuit", "mx.rfc", "cu.ni", "pt.nif", "jp.in_", "nz.ird",
)  # fmt: skip
_LOADED: dict[str, ModuleType] = {name: importlib.import_module(f"stdnum.{name}") for name in MODULES}

# Generic words for "identity number" (English and the languages of the formats above); the formats'
# own names are added from their documentation below.
GENERIC_LABELS: tuple[str, ...] = (
    "national id", "national identity", "national identification", "national number", "national insurance",
    "identity number", "identity no", "identity card", "id number", "id no", "id card", "id code",
    "personal number", "personal id", "personal code", "personal identity", "citizen id", "resident id",
    "social security", "social insurance", "tax id", "taxpayer id", "tax number", "tax no", "tin",
    "identification number", "document number", "passport",
)  # fmt: skip
# The same in other languages, and formats' names that their documentation does not give.
NATIVE_LABELS: tuple[str, ...] = (
    "personalausweis", "ausweisnummer", "steuer-id", "steuerid", "identifikationsnummer",
    "sozialversicherungsnummer", "sv-nummer", "sv-nr", "svnr", "versicherungsnummer",
    "numéro de sécurité sociale", "sécurité sociale", "numéro d'identité",
    "carte d'identité", "número de identidad", "documento de identidad", "cédula", "cedula",
    "número de identificación", "identidade", "número do documento", "n.º do documento",
    "codice fiscale", "carta d'identità", "persoonsnummer",
    "rijksregister", "burgerservicenummer", "personnummer", "personummer", "fødselsnummer",
    "henkilötunnus", "isikukood", "asmens kodas", "personas kods", "osobní číslo", "rodné číslo",
    "numer pesel", "numer identyfikacyjny", "kimlik", "kimlik no", "személyi szám", "adóazonosító",
    "cod numeric personal", "nik", "nric", "mykad", "aadhaar", "aadhar", "pan card", "kennitala",
    "sin", "nino", "amka", "afm", "oib", "jmbg", "emšo", "egn", "cnp", "curp", "rfc", "cpf", "rut",
    "cuit", "cuil", "dni", "nie", "nif", "bsn", "nir", "pesel", "inn", "snils",
    "身份证", "身份證", "身分證", "身份证号", "身份證號", "身分證號", "居民身份证", "公民身份号码",
    "マイナンバー", "個人番号", "주민등록번호",
    "주민번호", "מספר זהות", "תעודת זהות", "ת.ז", "رقم الهوية", "الرقم القومي", "الرقم الوطني",
    "کد ملی", "شماره ملی", "आधार", "पहचान संख्या", "เลขประจำตัวประชาชน", "บัตรประชาชน", "инн", "снилс",
    "паспорт", "идентификационный номер", "ідентифікаційний", "рнокпп", "егн", "ΑΜΚΑ", "ΑΦΜ",
    "αριθμός ταυτότητας",
)  # fmt: skip


def _documented_names(module: ModuleType) -> list[str]:
    """A format's names from the first line of its documentation: the abbreviations before the brackets
    and the native names inside them ("BSN (Burgerservicenummer, the Dutch citizen identification
    number)." gives BSN and Burgerservicenummer; the last, English description is left out)."""
    first = (module.__doc__ or "").strip().splitlines()[0]
    head, _, inside = first.partition("(")
    parts = [*head.split(","), *inside.rstrip(").").split(",")[:-1]]
    names = [part.strip().strip('"“”') for part in parts]
    return [
        n
        for n in names
        if 2 <= len(n) <= 40 and not n.lower().startswith(("the ", "a ")) and n.lower() not in _WORD_NAMES
    ]


# Abbreviations that are also English words: Japan's "IN" (Individual Number) would make "in" a label.
_WORD_NAMES = frozenset({"in"})
# Latin letters that Unicode does not decompose into a base letter and a mark.
_UNDECOMPOSED = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l", "ı": "i"})
_LATIN = re.compile(r"[\x00-\u024f]+")


def ascii_folded(label: str) -> str:
    """A Latin-script label as keys and column names write it without diacritics ("fødselsnummer" as
    "fodselsnummer", "numéro" as "numero"); a label in another script as it is."""
    if not _LATIN.fullmatch(label):
        return label
    decomposed = unicodedata.normalize("NFKD", label.translate(_UNDECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# "SSN" and "social security" in English name the US number, which the redactor checks by its own rules
# (area, group and serial; "000-12-3456" is not issued): another country's checksum is no evidence there.
_US_LABELS = frozenset({"ssn", "social security", "social security number", "u.s. social security number"})
_WRITTEN_LABELS = frozenset(
    label.lower()
    for label in (
        *GENERIC_LABELS,
        *NATIVE_LABELS,
        *(name for m in _LOADED.values() for name in _documented_names(m)),
    )
)
# (A folded form of two or three letters, such as "rc" from "RČ", is a common abbreviation too.)
LABELS: frozenset[str] = (
    _WRITTEN_LABELS | {ascii_folded(label) for label in _WRITTEN_LABELS if len(label) >= 4}
) - _US_LABELS


def _key(label: str) -> str:
    """A label as a lookup key: lower case, without joins, without a trailing word for "number"."""
    joined = re.sub(r"[ _.\-]", "", ascii_folded(label.lower()))
    return re.sub(r"(?:no|nr|number|num|numero|número|numéro|nummer|numer)$", "", joined) or joined


# A format's own name points at that format only ("BSN" is checked as a BSN, not as any 9-digit number
# that some other country's checksum accepts); a generic label ("national id") at every format.
def _named_formats() -> dict[str, tuple[ModuleType, ...]]:
    """Each format's own names; a documented name that is also a generic label ("ID number", "Identity
    Number") stays generic."""
    generic = {_key(label) for label in GENERIC_LABELS}
    named: dict[str, tuple[ModuleType, ...]] = {}
    for module in _LOADED.values():
        for name in _documented_names(module):
            if _key(name) not in generic:
                named[_key(name)] = (*named.get(_key(name), ()), module)
    return named


_NAMED = _named_formats()


def label_pattern(labels: frozenset[str]) -> str:
    """The labels as one alternation, longest first, a space matching any join (``national_id``,
    ``nationalId`` lower-cased, ``national-id``), then the usual words for "number" after them."""
    words = sorted(labels, key=len, reverse=True)
    alternation = "|".join(re.escape(w).replace(r"\ ", "[ _.-]?") for w in words)
    return rf"(?:{alternation})(?:[ _.-]?(?:no|nr|number|num|numero|número|numéro|nummer|numer))?\.?"


_SHORTEST, _LONGEST = 6, 20
_SEPARATORS = re.compile(r"[\s./-]")


def _accepts_length(module: ModuleType, length: int) -> bool:
    """Whether the format may have `length` characters once compacted: stdnum reports a wrong length as
    its own error (``InvalidLength``), before the checksum."""
    try:
        module.validate("1" * length)
    except InvalidLength:
        return False
    except ValidationError:
        return True
    return True


# The formats by compacted length, so a value is checked by the few that may have its length (a check
# costs 30-150 µs; trying all 49 made a labelled value cost half a millisecond).
_BY_LENGTH: dict[int, tuple[ModuleType, ...]] = {
    length: tuple(m for m in _LOADED.values() if _accepts_length(m, length))
    for length in range(_SHORTEST, _LONGEST + 1)
}


# The Chinese format reads its table of birthplaces on first use (about 25 ms): once, at import, rather
# than inside the first redaction that meets one. (Asked through ``is_valid`` before, with a number whose
# check digit is wrong: the check failed before the table was read, and the first megabyte read it.)
numdb.get("cn/loc")


def _is_valid(module: ModuleType, value: str) -> bool:
    """The format's own check; a lookup error inside it is a no. (python-stdnum 2.2's Chinese format
    raises KeyError for a birthplace code that names a region with no county list, "110000...": found on
    mixed output with varied digits, where it made the whole redaction fail.)"""
    try:
        return bool(module.is_valid(value))
    except KeyError:
        return False


# Program output repeats its values (a log line per request, the same record printed again): a verdict,
# a pure function of its strings, is kept, as ``fields._valid`` keeps its own (a check costs 30-150 µs,
# and about 40 % of a megabyte's redaction time went to the same few hundred values asked again).
@functools.lru_cache(maxsize=4096)
def labelled_valid(candidate: str, label: str) -> bool:
    """Whether the value after an identity label is valid in the format the label names, or in any of
    them after a generic label."""
    compact = _SEPARATORS.sub("", candidate)
    if not _SHORTEST <= len(compact) <= _LONGEST or sum(c.isdigit() for c in compact) < 5:
        return False
    named = _NAMED.get(_key(label))
    modules = _BY_LENGTH[len(compact)] if named is None else named
    return any(_is_valid(module, candidate) for module in modules)


# The shapes a format prints, each checked only against its formats (Hyperscan has the union as the
# trigger "identity_shape"; Python finds which shape matched).
SHAPES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("cpf", r"\d{3}\.\d{3}\.\d{3}-\d{2}", ("br.cpf",)),
    ("ahv", r"756\.\d{4}\.\d{4}\.\d{2}", ("ch.ssn",)),
    ("personnummer", r"(?:19|20)?\d{6}[-+]\d{4}", ("se.personnummer", "dk.cpr")),
    ("hetu", r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]", ("fi.hetu",)),
    ("rrn", r"\d{6}-\d{7}", ("kr.rrn",)),
    ("rut", r"\d{1,2}\.\d{3}\.\d{3}-[0-9kK]", ("cl.rut",)),
    ("cuit", r"\d{2}-\d{8}-\d", ("ar.cuit",)),
    ("birth_number", r"\d{6}/\d{3,4}", ("cz.rc", "sk.rc")),
    ("latvian", r"\d{6}-\d{5}", ("lv.pvn",)),
    ("codice_fiscale", r"[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]", ("it.codicefiscale",)),
    ("curp", r"[A-Z]{4}\d{6}[HM][A-Z]{5}[A-Z0-9]\d", ("mx.curp",)),
    ("dni", r"\d{8}-?[A-Z]", ("es.dni",)),
    ("nie", r"[XYZ]-?\d{7}-?[A-Z]", ("es.nie",)),
    ("ric", r"\d{17}[\dX]", ("cn.ric",)),
    ("nir", r"[12] \d{2} \d{2} \d{2} \d{3} \d{3} \d{2}", ("fr.nir",)),
    ("thai", r"\d-\d{4}-\d{5}-\d{2}-\d", ("th.pin",)),
    ("pan", r"[A-Z]{3}[PCHFATBLJG][A-Z]\d{4}[A-Z]", ("in_.pan",)),
)
SHAPE_TRIGGER = "|".join(shape for _, shape, _ in SHAPES)
_SHAPE = re.compile(
    r"(?<![\w.+/-])(?:" + "|".join(f"(?P<{name}>{shape})" for name, shape, _ in SHAPES) + r")(?![\w/]|[.-]\w)"
)
_SHAPE_MODULES = {name: tuple(_LOADED[m] for m in modules) for name, _, modules in SHAPES}


def shape_at(text: str, start: int, end: int) -> re.Match[str] | None:
    """The first identity-number shape in text[start:end] that its formats validate, else None."""
    for m in _SHAPE.finditer(text, start, end):
        name = m.lastgroup
        if name is not None and _shape_valid(name, m.group()):
            return m
    return None


@functools.lru_cache(maxsize=4096)
def _shape_valid(shape: str, value: str) -> bool:
    """Whether one of the shape's formats validates the value (kept, as ``labelled_valid``)."""
    return any(_is_valid(module, value) for module in _SHAPE_MODULES[shape])


# ETSI EN 319 412-1's semantics identifier, as eIDAS certificates and Smart-ID print a person: a type (PNO a
# personal number, TIN a tax number, IDC an identity card), the country, a hyphen, the national number.
SEMANTICS_TRIGGER = r"(?:PNO|TIN|IDC)[A-Z]{2}-[0-9A-Z]"
SEMANTICS = re.compile(r"(?<![A-Za-z0-9])(?:PNO|TIN|IDC)(?P<country>[A-Z]{2})-(?P<value>[0-9A-Z]{6,20})\b")


def _by_country() -> dict[str, tuple[ModuleType, ...]]:
    """The formats by country code ("in_" is India's: stdnum's name avoids the keyword)."""
    found: dict[str, tuple[ModuleType, ...]] = {}
    for name, module in _LOADED.items():
        country = name.split(".")[0].rstrip("_")
        found[country] = (*found.get(country, ()), module)
    return found


_BY_COUNTRY = _by_country()


@functools.lru_cache(maxsize=1024)
def semantics_valid(country: str, value: str) -> bool:
    """Whether a semantics identifier's number is valid in one of its country's formats."""
    return any(_is_valid(module, value) for module in _BY_COUNTRY.get(country.lower(), ()))
