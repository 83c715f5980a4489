"""Long random-looking strings that program output shows to be identifiers, not secrets (layer 5,
``redaction.py``'s high-entropy detector).

A trace id, a ULID or a nanoid is as random as an API key; what tells them apart is how the output writes
them, not their characters:

- a key that names an identifier: ``trace_id=``, ``request-id:``, ``ksuid:``, ``nanoid:`` (but not a
  session id or a secret id, which grant access);
- the digest algorithm written before it: ``SHA256:Hn3k...`` (an SSH key fingerprint), ``sha512-...``
  (a subresource-integrity hash);
- its place in a DNS host name (``4A1B...F9.gr7.eu-west-1.eks.amazonaws.com``) or in a git refspec
  (``+9f4e...:refs/remotes/origin/main``): a host name and an object name are addresses, not credentials;
- pieces joined by ``/``, ``-``, ``_`` or ``.`` each of one case (``ReplicaSet/coredns-5d78c9869d``, a
  generated workload name): a random secret changes case inside its pieces.
"""

from __future__ import annotations

import re

_ID_KEY = re.compile(
    r"(?i)(?<![\w-])(?!session|secret)(?:[a-z]+[_-])?[a-z]{0,5}id[\"']?[ \t]*[:=][ \t]*[\"']?\Z", re.ASCII
)
_ALGORITHM = re.compile(r"(?i)(?<![a-z0-9])(?:sha-?(?:1|224|256|384|512)|md5|blake2[bs]?)[:=-]\Z", re.ASCII)
_HOST_LABELS = re.compile(r"(?:\.[a-z0-9-]+)*\.[a-z]{2,24}(?![\w-])(?![\w.-]*@)", re.ASCII)
_REFSPEC = re.compile(r":refs/")
_PIECES = re.compile(r"[/_.-]")
_CAMEL_WORDS = re.compile(r"(?:[A-Z][a-z]{2,})+")


def labelled(before: str) -> bool:
    """Whether the text just before a token (on its line) names it an identifier or a digest."""
    return _ID_KEY.search(before) is not None or _ALGORITHM.search(before) is not None


def placed(text: str, end: int) -> bool:
    """Whether the token ending at ``end`` is a label of a host name or the source of a git refspec."""
    if end < len(text) and text[end] == ".":
        return _HOST_LABELS.match(text, end) is not None
    return _REFSPEC.match(text, end) is not None


def joined_name(token: str) -> bool:
    """Whether the token is pieces joined by separators, each all of one case or capitalised words."""
    pieces = [p for p in _PIECES.split(token) if p]
    return len(pieces) >= 2 and all(
        p.lower() == p or p.upper() == p or _CAMEL_WORDS.fullmatch(p) is not None for p in pieces
    )
