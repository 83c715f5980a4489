"""E-mail addresses that reach a role or a list rather than a person (layer 5, ``redaction.py``'s e-mail
detector): the mailbox names RFC 2142 reserves for a domain's services and roles (``postmaster@``,
``hostmaster@``, ``abuse@``, ``security@``, ...) and the senders that take no replies (``noreply@``,
``mailer-daemon@``), and any address at a mailing-list host (``pkg-postgresql@lists.debian.org``, as a
Debian changelog signs a team's upload): whoever reads them, the address names a function."""

from __future__ import annotations

import re

_ROLE = re.compile(
    r"(?i)(?:postmaster|hostmaster|webmaster|abuse|noc|security|usenet|news|uucp|ftp|www|"
    r"no-?reply|do-?not-?reply|mailer-daemon)@",
    re.ASCII,
)


def role(address: str) -> bool:
    """Whether the address is a role's mailbox or a mailing list's."""
    return _ROLE.match(address) is not None or "@lists." in address.lower()
