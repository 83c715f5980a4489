"""Which IP addresses in a program's output name machines rather than people (layer 5, ``redaction.py``).

An address is personal data when it can point at someone's connection. These techniques of program output
print addresses that cannot:

- a private (RFC 1918) address alone in a cell of a column-aligned listing (two spaces or a line's edge
  either side): kubectl, docker and ss print pods', services' and containers' addresses inside a
  cluster's network so, which point at no one (a private address elsewhere, "login from 10.20.30.40", may
  be a person's machine on an office network);
- a server's address printed beside its host name: resolvers (curl's ``* IPv4:`` line, dig's answer
  records, nslookup's ``Name:``/``Address:`` pair, ``host``) and network tools (``Connected to example.com
  (93.184.215.14)``, ``PING google.com (142.250.185.78)``, traceroute's hops) name the host they resolved.
  Every other mention of that address in the same text (``Trying 93.184.215.14:443...``, ``Reply from
  ...``) is the same server. A host name that spells the address's own numbers (``84-157-203-46.dyn.example
  .net``, a reverse-DNS name of a home connection) is no such name: the address may be someone's;
- a router of a route: traceroute's and mtr's hop lines (a hop's number, the router's name and address,
  its round-trip times) print the machines that forwarded the probes. The last hop is the destination,
  which may be anyone's, and stays;
- an address under a key or a column that names a machine's role: a load balancer's ingress, a NAT
  gateway, a node, a name server (``LoadBalancer Ingress:``, ``nat_public_ips = [``, kubectl's
  ``EXTERNAL-IP`` column of its nodes and services). A key naming a person's side (a client, a user, a
  visitor) is never one of these words.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from level5.safety.lines import COLUMN_GAP, line_index

_RFC1918 = tuple(ipaddress.IPv4Network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_CELL_BEFORE = re.compile(r"(?:^|  )\Z", re.MULTILINE)
_CELL_AFTER = re.compile(r"  |\n|\Z")

# A DNS host name: dotted labels ending in an alphabetic top-level label (and its root dot, as dig prints).
_HOST = r"[A-Za-z0-9][\w-]*(?:\.[\w-]+)*\.[A-Za-z]{2,24}\.?"
# host (address) or host [address]: curl, ping, traceroute, Windows ping. The host is the word before the
# bracket, matched whole (found from the bracket back, not searched for).
_BRACKETED_HOST = re.compile(rf"{_HOST}")
_HOST_LONGEST = 254  # a DNS name's 253 characters and its root dot
# (A host that opens the line's form starts after no letter or digit: the leftmost match never does, as
# a match from the letter before would be leftmost, and the search then skips mid-word starts at once.)
_WORD_HOST = rf"(?<![A-Za-z0-9]){_HOST}"
_NAMED = re.compile(
    # host has address ... (the host command)
    rf"(?P<host>{_WORD_HOST})[ \t]+has(?:[ \t]+IPv6)?[ \t]+address[ \t]+\Z"
    # an A or AAAA record of a zone file or dig's answer section
    rf"|(?P<host3>{_WORD_HOST})[ \t]+\d+[ \t]+IN[ \t]+A{{1,4}}[ \t]+\Z"
    # nslookup: the name on the line before the address
    rf"|Name:[ \t]*(?P<host4>{_HOST})[ \t]*\nAddress(?:es)?:[ \t]*\Z"
    # curl 8: the resolver's addresses of the host it printed on the line before
    rf"|\*[ \t]+Host[ \t]+(?P<host5>{_HOST}):\d+[ \t]+was[ \t]+resolved\.\n(?:\*[ \t]+IPv[46]:[^\n]*\n)?"
    r"\*[ \t]+IPv[46]:[ \t]+(?:[0-9A-Fa-f.:]+,[ \t]*)*\Z"
)
_REACH = 300
_NAMED_LINES = 2  # the lines above the address's that a form of _NAMED spans at most (curl's three)
# What the line of an address named by _NAMED holds before it when no bracket precedes it: "has address"
# or a DNS record's class near it, nslookup's "Address:" or curl's "* IPv4:" at the line's start.
_NAMING_NEAR = re.compile(r"has(?:[ \t]+IPv6)?[ \t]+address|[ \t]IN[ \t]")
_NAMING_REACH = 24  # "has IPv6 address " or a record's "IN\tAAAA\t" is right before the address
_NAMING_LINE = re.compile(r"Address(?:es)?:|\*[ \t]+IPv[46]:")
# A hop line of traceroute (" 3  router.example.net (84.116.191.221)  9.804 ms") or mtr ("  2.|-- 10.0.0.1"):
# the hop's number, then the router's name and address, then times or a loss percentage.
_HOP_START = r" {0,2}\d{1,2}(?:\.\|--|  )[ \t]*"
_HOP = re.compile(rf"{_HOP_START}(?:[\w.-]+ \()?[0-9A-Fa-f.:]+\)?(?:  +[\d.]+ ms|  +[\d.]+%)")
_HOP_LINE = re.compile(rf"^{_HOP_START}\S", re.MULTILINE)
_NUMBERS = re.compile(r"[0-9A-Fa-f]+")


def cluster_cell(text: str, start: int, end: int, address: str) -> bool:
    """Whether a private (RFC 1918) IPv4 address stands alone in a cell of a column-aligned listing."""
    # The cell's edges first: most addresses are not in a cell, and parsing one costs more than both.
    if _CELL_BEFORE.search(text, max(0, start - 2), start) is None or _CELL_AFTER.match(text, end) is None:
        return False
    parsed = ipaddress.IPv4Address(address)
    return any(parsed in net for net in _RFC1918)


def named_servers(text: str, addresses: list[tuple[int, str]]) -> frozenset[str]:
    """The addresses (of the ``(start, address)`` found in ``text``) that the text prints beside a host name
    of their own."""
    named = set()
    for start, address in addresses:
        host = _bracketed_host(text, start) if text[start - 1 : start] in ("(", "[") else _named(text, start)
        if host and not _spells(host, address):
            named.add(address)
    return frozenset(named)


def _bracketed_host(text: str, start: int) -> str | None:
    """The host name before the bracket that opens at ``start - 1`` ("example.com (93.184.215.14)")."""
    end = start - 1
    while end > 0 and text[end - 1] in " \t":
        end -= 1
    if end == start - 1:
        return None
    low = max(0, end - _HOST_LONGEST)
    begin = max(text.rfind(" ", low, end), text.rfind("\t", low, end), text.rfind("\n", low, end)) + 1
    if begin == 0 and low > 0:
        return None  # a word longer than any host name
    m = _BRACKETED_HOST.fullmatch(text, begin, end)
    return m.group() if m else None


def _named(text: str, start: int) -> str | None:
    """The host name that a resolver's line (or the line before it) gives the address at ``start``."""
    lines = line_index(text)
    line_start = lines.start(start)
    if not _NAMING_LINE.match(text, line_start) and not _NAMING_NEAR.search(
        text, max(start - _NAMING_REACH, line_start), start
    ):
        return None  # no form of _NAMED can end here: its search (every start in the window) is skipped
    # From the first line a form can start on: a search tries every start in its window.
    first = line_start
    for _ in range(_NAMED_LINES):
        if first == 0:
            break
        first = lines.start(first - 1)
    m = _NAMED.search(text, max(first, start - _REACH), start)
    return next(h for h in m.groups() if h is not None) if m else None


def route_hops(text: str, addresses: list[tuple[int, str]]) -> frozenset[str]:
    """The addresses (of the ``(start, address)`` found in ``text``) of routers on hop lines, but each
    route's last hop's."""
    hops: dict[int, list[str]] = {}
    for start, address in addresses:
        line_start = line_index(text).start(start)
        if line_start in hops or _HOP.match(text, line_start) is not None:
            hops.setdefault(line_start, []).append(address)
    destinations = set()
    run_end = -1  # the start of the last line of the run of hop lines the previous hop was in
    for line_start in sorted(hops):
        if line_start <= run_end:
            continue
        run_end = _last_hop_line(text, line_start)
        destinations.add(run_end)
    return frozenset(address for line, found in hops.items() if line not in destinations for address in found)


def _last_hop_line(text: str, line_start: int) -> int:
    """Where the last line of the route whose hop line starts at ``line_start`` starts: the hop lines run
    on, one per line, to the destination's, with an address or only a name. (Found line by line from the
    hop: a search for the text's last hop line read every line after it, and counted a later numbered
    line, far from any route, as the destination.)"""
    lines = line_index(text)
    last = line_start
    while (following := lines.end(last) + 1) < len(text) and _HOP_LINE.match(text, following) is not None:
        last = following
    return last


def _spells(host: str, address: str) -> bool:
    """Whether the host name carries the address's numbers (a reverse-DNS name of a dynamic connection)."""
    parts = [p for p in _NUMBERS.findall(address.lower()) if p != "0"]
    labels = set(_NUMBERS.findall(host.lower()))
    return len(parts) >= 2 and sum(p in labels for p in parts) >= 2


# The words of a key or a column that name a machine's role (as words of a key: "nat_public_ips",
# "LoadBalancer Ingress", "EXTERNAL-IP").
_MACHINE_ROLE = re.compile(
    r"(?i)(?<![a-z])(?:ingress|egress|gateway|nat|nodes?|load ?balancer|name ?servers?|resolvers?|"
    r"upstreams?|endpoints?|vip|routers?|(?:external|internal|cluster)[-_ ]ip)(?![a-z])",
    re.ASCII,
)
# A key before the address on its line, with list items before the address ("key = [a, b, ", "key: "), or
# a machine's name and a slash (kubectl's "Node:  worker-1/10.0.0.7").
_KEY_BEFORE = re.compile(
    r"(?P<key>[A-Za-z][\w .-]{0,40}?)[\"']?[ \t]*[:=][ \t]*\[?[ \t]*(?:[\"']?[\w.:]+[\"']?,[ \t]*)*"
    r"(?:[\w.-]+/)?[\"']?\Z"
)
# A line that is an item of a multi-line list, and the line that opens the list with its key.
_LIST_ITEM = re.compile(r"[ \t]*[\"']?[\w.:]+[\"']?,?[ \t]*")
_LIST_KEY = re.compile(r"[ \t]*(?P<key>[A-Za-z][\w .-]{0,40}?)[\"']?[ \t]*[:=][ \t]*\[?[ \t]*")
_LIST_REACH = 32
_KEY_LONGEST = 42  # _KEY_BEFORE's key and its quote
_KEY_REACH = 120  # a key (41 characters at most) and the items of its list before the address


def machine_role(text: str, start: int) -> bool:
    """Whether the address at ``start`` is under a key or a column that names a machine's role: the key
    before it on its line, the header of its column in a left-aligned table (the block's first line), or
    the key of the multi-line list it is an item of."""
    line_start = line_index(text).start(start)
    before = text[max(line_start, start - _KEY_REACH) : start]
    # The role's word is in the key, which ends at the last ":" or "=" (a port's or an IPv6 item's colon
    # leaves the key in reach).
    colon = max(before.rfind(":"), before.rfind("="))
    if colon > 0 and _MACHINE_ROLE.search(before, max(0, colon - _KEY_LONGEST), colon):
        m = _KEY_BEFORE.search(before)
        if m is not None:
            return _MACHINE_ROLE.search(m.group("key")) is not None
    if before.endswith(("  ", "\t")) and before.strip():
        return _column_role(text, line_start, start - line_start)
    return not before.strip(" \t\"'") and _list_role(text, line_start)


def _lines_above(text: str, line_start: int) -> Iterator[str]:
    """The lines above the one starting at ``line_start``, nearest first, at most _LIST_REACH of them."""
    cursor = line_start
    for _ in range(_LIST_REACH):
        if cursor == 0:
            return
        previous = line_index(text).start(cursor - 1)
        yield text[previous : cursor - 1]
        cursor = previous


def _list_role(text: str, line_start: int) -> bool:
    """The key of the list whose items run from the lines above down to the line at ``line_start``."""
    for line in _lines_above(text, line_start):
        key = _LIST_KEY.fullmatch(line)
        if key is not None and line.rstrip().endswith(("[", ":")):
            return _MACHINE_ROLE.search(key.group("key")) is not None
        if not _LIST_ITEM.fullmatch(line):
            return False
    return False


def _column_role(text: str, line_start: int, column: int) -> bool:
    """The header of the column starting at ``column`` in the block of lines above ``line_start``."""
    header = None
    for line in _lines_above(text, line_start):
        if not line.strip():
            break
        header = line
    if header is None or len(header) <= column or (column and header[column - 1] not in " \t"):
        return False
    cell = COLUMN_GAP.split(header[column : column + 64], maxsplit=1)[0]
    return _MACHINE_ROLE.search(cell) is not None
