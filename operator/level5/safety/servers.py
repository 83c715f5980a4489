"""Which IP addresses in a program's output name machines rather than people (layer 5, ``redaction.py``).

An address is personal data when it can point at someone's connection. Two techniques of program output
print addresses that cannot:

- an address inside a private network (RFC 1918, shared CGNAT space, link-local, IPv6 unique-local):
  nobody outside that network can reach it or tie it to a subscriber, so it names a machine, a pod or a
  router of the network the program runs in;
- a server's address printed beside its host name: resolvers (curl's ``* IPv4:`` line, dig's answer
  records, nslookup's ``Name:``/``Address:`` pair, ``host``) and network tools (``Connected to example.com
  (93.184.215.14)``, ``PING google.com (142.250.185.78)``, traceroute's hops) name the host they resolved.
  Every other mention of that address in the same text (``Trying 93.184.215.14:443...``, ``Reply from
  ...``) is the same server. A host name that spells the address's own numbers (``84-157-203-46.dyn.example
  .net``, a reverse-DNS name of a home connection) is no such name: the address may be someone's.
"""

from __future__ import annotations

import ipaddress
import re

_INTERNAL = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16")
) + tuple(ipaddress.ip_network(net) for net in ("fc00::/7", "fe80::/10"))

# A DNS host name: dotted labels ending in an alphabetic top-level label (and its root dot, as dig prints).
_HOST = r"[A-Za-z0-9][\w-]*(?:\.[\w-]+)*\.[A-Za-z]{2,24}\.?"
_NAMED = re.compile(
    # host (address) or host [address]: curl, ping, traceroute, Windows ping
    rf"(?P<host>{_HOST})[ \t]+[(\[]\Z"
    # host has address ... (the host command)
    rf"|(?P<host2>{_HOST})[ \t]+has(?:[ \t]+IPv6)?[ \t]+address[ \t]+\Z"
    # an A or AAAA record of a zone file or dig's answer section
    rf"|(?P<host3>{_HOST})[ \t]+\d+[ \t]+IN[ \t]+A{{1,4}}[ \t]+\Z"
    # nslookup: the name on the line before the address
    rf"|Name:[ \t]*(?P<host4>{_HOST})[ \t]*\nAddress(?:es)?:[ \t]*\Z"
    # curl 8: the resolver's addresses of the host it printed on the line before
    rf"|\*[ \t]+Host[ \t]+(?P<host5>{_HOST}):\d+[ \t]+was[ \t]+resolved\.\n(?:\*[ \t]+IPv[46]:[^\n]*\n)?"
    r"\*[ \t]+IPv[46]:[ \t]+(?:[0-9A-Fa-f.:]+,[ \t]*)*\Z"
)
_REACH = 300
_NUMBERS = re.compile(r"[0-9A-Fa-f]+")


def internal(address: str) -> bool:
    """Whether the (valid) address lies in a private network's space."""
    ip = ipaddress.ip_address(address)
    return any(ip.version == net.version and ip in net for net in _INTERNAL)


def named_servers(text: str, addresses: list[tuple[int, str]]) -> frozenset[str]:
    """The addresses (of the ``(start, address)`` found in ``text``) that the text prints beside a host name
    of their own."""
    named = set()
    for start, address in addresses:
        m = _NAMED.search(text, max(0, start - _REACH), start)
        host = m and next(h for h in m.groups() if h is not None)
        if host and not _spells(host, address):
            named.add(address)
    return frozenset(named)


def _spells(host: str, address: str) -> bool:
    """Whether the host name carries the address's numbers (a reverse-DNS name of a dynamic connection)."""
    parts = [p for p in _NUMBERS.findall(address.lower()) if p != "0"]
    labels = set(_NUMBERS.findall(host.lower()))
    return len(parts) >= 2 and sum(p in labels for p in parts) >= 2
