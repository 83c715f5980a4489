"""People named by the structure of interchange formats, for layer 5 (``redaction.py``): fields whose
position, not a label, says they hold a person.

- **HL7 v2**: a segment is a line of ``|``-separated fields led by its type; a person's name is an XPN
  field, components separated by ``^`` (family, given, middle...): PID-5 (the patient), PID-6 (the
  mother's maiden name), NK1-2 (the next of kin), GT1-3 (the guarantor), IN1-16 (the insured).
- **UN/EDIFACT**: a segment is its tag and ``+``-separated data elements, components separated by ``:``
  (``?`` escapes either), ended by ``'``. A name-and-address segment (``NAD``) holds the party's street,
  city, region, postcode and country in its elements 5 to 9; a contact segment (``CTA``) holds the
  contact's name as the second component of its element 2 (``CTA+PD+:Ann Lee'``); a communication
  segment (``COM``) a number or an address and its channel's code (``COM+0040744825144:TE'``: TE
  telephone, FX fax, AL cellular; EM e-mail).
- **LDAP**: a distinguished name whose common name holds an escaped comma, ``CN=Surname\\, Given,OU=...``,
  is a person's directory entry written family name first (a group or a host has no comma to escape).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Segment type -> the positions of its person-name fields (the type itself is field 0).
_NAME_FIELDS = {"PID": (5, 6), "NK1": (2,), "GT1": (3,), "IN1": (16,)}
SEGMENT_TRIGGER = r"(?:^|\n)(?:PID|NK1|GT1|IN1)\|"
SEGMENT = re.compile(r"(?m)^(PID|NK1|GT1|IN1)\|[^\n]*")
# An XPN value: a family name and at least a given name, letters (any script), spaces, "'" and "-".
_XPN = re.compile(r"[^\W\d_][\w' -]*(?:\^[\w' -]*){1,6}")
_LETTERS = re.compile(r"[^\W\d_]{2}")

EDIFACT_TRIGGER = r"(?:^|['\n])[ \t]*(?:NAD|CTA|COM)\+"
EDIFACT_SEGMENT = re.compile(r"(?:(?<=['\n])|^)[ \t]*(NAD|CTA|COM)\+((?:[^'?\n]|\?.)*)", re.MULTILINE)
_CHANNELS = {"TE": "PHONE", "FX": "PHONE", "AL": "PHONE", "EM": "EMAIL"}
_NUMBER = re.compile(r"\+?[\d ()/-]{6,20}")
_ELEMENT_SEPARATOR = re.compile(r"(?<!\?)\+")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_CONTACT_NAME = re.compile(r"[^\W\d_][\w'.-]*(?: [^\W\d_][\w'.-]*)+")
_STREET, _POSTCODE = 5, 8
"""NAD's elements: the street (C059) and the postcode; the address runs from the street to the end."""


def edifact_values(segment: re.Match[str]) -> Iterator[tuple[int, int, str]]:
    """(start, end, kind) of the address in a NAD segment (a street with letters, and a house number or a
    postcode after it), the contact's name in a CTA segment and the number or address in a COM segment
    (a match of ``EDIFACT_SEGMENT``)."""
    body, offset = segment.group(2), segment.start(2)
    starts = [0, *(m.end() for m in _ELEMENT_SEPARATOR.finditer(body))]
    elements = [
        body[a : (starts[i + 1] - 1 if i + 1 < len(starts) else len(body))] for i, a in enumerate(starts)
    ]
    # (Element 1 is the body's first: the tag, element 0, is outside it.)
    if segment.group(1) == "NAD" and len(elements) >= _STREET:
        street = elements[_STREET - 1]
        postcode = elements[_POSTCODE - 1] if len(elements) >= _POSTCODE else ""
        if _LETTER.search(street) and (_DIGIT.search(street) or _DIGIT.search(postcode)):
            yield offset + starts[_STREET - 1], offset + len(body.rstrip("+")), "ADDRESS"
    elif segment.group(1) == "COM":
        value, _, channel = elements[0].rpartition(":")
        kind = _CHANNELS.get(channel)
        if (kind == "EMAIL" and "@" in value) or (kind == "PHONE" and _NUMBER.fullmatch(value)):
            yield offset, offset + len(value), kind
    elif segment.group(1) == "CTA" and len(elements) >= 2:
        contact = elements[1]
        colon = contact.find(":")
        if colon >= 0 and _CONTACT_NAME.fullmatch(contact[colon + 1 :]):
            yield offset + starts[1] + colon + 1, offset + starts[1] + len(contact), "PERSON"


DN_TRIGGER = r"[Cc][Nn]=[^,\n]{1,64}\\,"
# The common name up to its first unescaped comma, with one escaped comma inside (its "value" group).
COMMON_NAME = re.compile(r"(?i)(?<![\w-])cn=(?P<value>[^\W\d_][\w' .-]*\\, ?[^\W\d_][\w' .-]*)(?=,|$|\s)")


def segment_names(segment: re.Match[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of each person-name field of an HL7 v2 segment (a match of ``SEGMENT``)."""
    wanted = _NAME_FIELDS[segment.group(1)]
    position, start = 0, segment.start()
    for field in segment.group().split("|"):
        if position in wanted and _XPN.fullmatch(field) and len(_LETTERS.findall(field)) >= 2:
            yield start, start + len(field)
        position, start = position + 1, start + len(field) + 1
