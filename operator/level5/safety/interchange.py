"""People named by the structure of interchange formats, for layer 5 (``redaction.py``): fields whose
position, not a label, says they hold a person.

- **HL7 v2**: a segment is a line of ``|``-separated fields led by its type; a person's name is an XPN
  field, components separated by ``^`` (family, given, middle...): PID-5 (the patient), PID-6 (the
  mother's maiden name), NK1-2 (the next of kin), GT1-3 (the guarantor), IN1-16 (the insured).
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
