"""Digit groups that program output shows are not phone numbers (layer 5, ``redaction.py``'s phone
detector): the shape a phone number can take is shared by numbers that their notation or their place
tells apart.

- an IPv4 address inside the group (``2  100.64.0.1``, a traceroute hop and its number): an address is
  one token of four dotted numbers, and no phone number is written with one inside;
- an ISO 6709 position, a signed latitude glued to a signed longitude (``-3436-05827``, ``+4339-07923``,
  as tz's zone.tab and photo metadata print them), whose degrees and minutes are in range;
- the years of a copyright notice (``Copyright 2019-2026``, ``© 2003-2024``): two years, the second later;
- a legal act's number, its year and its serial (``Regulation (EU) 2024/1689``, ``Directive 2019/1937``,
  ``Decision No 2021/123``): after the act's kind or the body that made it, in brackets;
- a group cut by a run of three spaces: the cells of a column-aligned table (a benchmark's iteration
  count beside its throughput), which a phone number never spans.
"""

from __future__ import annotations

import ipaddress
import re

_QUAD = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])", re.ASCII)
_POSITION = re.compile(r"[+-]?(\d\d)(\d\d)(\d\d)?([+-])(\d{3})(\d\d)(\d\d)?", re.ASCII)
_YEARS = re.compile(r"((?:19|20)\d\d)[-\u2013]((?:19|20)\d\d)", re.ASCII)
_COPYRIGHT = re.compile(r"(?i)(?:copyright|\(c\)|\u00a9)[ \t]*\Z")
_ACT_NUMBER = re.compile(r"(?:19|20)\d\d/\d{1,5}", re.ASCII)
_ACT_BEFORE = re.compile(
    r"(?i)(?:regulation|directive|decision|\((?:eu|ec|eec|euratom)\)|no\.?|nr\.?)[ \t]*\Z"
)
CELL_GAP = "   "
"""Three spaces: the gap between the cells of a column-aligned table."""


def address_inside(raw: str) -> bool:
    """Whether the digit group holds a dotted IPv4 address (a valid one: numbers written in dotted groups,
    ``044.668.18.00``, have groups over 255 or leading zeros)."""
    return any(_valid(m.group()) for m in _QUAD.finditer(raw))


def _valid(quad: str) -> bool:
    try:
        ipaddress.IPv4Address(quad)
    except ValueError:
        return False
    return True


def not_a_phone(before: str, raw: str) -> bool:
    """Whether the digit group is a position, a copyright notice's years or a legal act's number
    (``before``: the text before it, whose last character is a position's sign when the group does not
    start with it)."""
    return _position(before, raw) or _copyright_years(before, raw) or _act_number(before, raw)


def _position(before: str, raw: str) -> bool:
    m = _POSITION.fullmatch(raw)
    if m is None or (raw[0] not in "+-" and not before.endswith(("+", "-"))):
        return False
    lat_deg, lat_min, lat_sec, _, lon_deg, lon_min, lon_sec = m.groups()
    if (lat_sec is None) != (lon_sec is None):  # both to the minute or both to the second
        return False
    seconds = [int(s) for s in (lat_min, lon_min, lat_sec or "0", lon_sec or "0")]
    return int(lat_deg) <= 90 and int(lon_deg) <= 180 and all(s < 60 for s in seconds)


def _copyright_years(before: str, raw: str) -> bool:
    m = _YEARS.fullmatch(raw)
    return m is not None and int(m.group(1)) < int(m.group(2)) and _COPYRIGHT.search(before) is not None


def _act_number(before: str, raw: str) -> bool:
    return _ACT_NUMBER.fullmatch(raw) is not None and _ACT_BEFORE.search(before) is not None
