"""Credentials in configuration formats that layer 5's ``key = value`` assignment does not reach, and what
a base64 token decodes to.

A password is printed as an XML element (Maven's settings.xml, ``<password>…</password>``), as a directive
followed by its value on a line of its own (redis.conf's ``requirepass``, ``masterauth``), or as the last
field of a PostgreSQL password file line (``host:port:database:user:password``). A base64 token that
decodes to ``user:password`` is an HTTP Basic or registry credential (Docker's ``"auth"``); one that
decodes to a JSON document naming no credential is content."""

from __future__ import annotations

import base64
import binascii
import json
import re

# The names a credential's key ends with (shared with redaction.py's assignment and its trigger).
CREDENTIAL_NAMES = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|"
    r"private[_-]?key|auth[_-]?key|credentials?|client[_-]?secret|session[_-]?id|cookie|"
    # A Wi-Fi network's pre-shared key (NetworkManager's "802-11-wireless-security.psk").
    r"psk|pre[_-]?shared[_-]?key"
)
_PRIVATE_KEY_NAME = re.compile(r"(?i)private[_-]?key[\"']?[ \t]*(?::=|=>|[:=])\s*[\"']?$")

# <password>value</password>, a namespace prefix allowed; the value has no markup and no line break.
ELEMENT = re.compile(
    rf"(?i)<(?:[\w.-]+:)?(?:[\w.-]*?(?:{CREDENTIAL_NAMES}))>(?P<value>[^<>\n]{{4,}})</",
)
# A directive and its value alone on a line, the key in lower case as config files write it (redis's
# masterauth too).
DIRECTIVE = re.compile(rf"(?m)^[ \t]*(?P<key>[a-z_-]*(?:{CREDENTIAL_NAMES}|auth))[ \t]+(?P<value>\S+)[ \t]*$")
# host:port:database:user:password, each field without spaces (the port may be "*", as in the file).
PGPASS = re.compile(r"(?m)^[\w.*-]+:(?:\d{1,5}|\*):[^\s:]+:[^\s:]+:(?P<value>[^\s:]{4,})[ \t]*$")
# A value that looks like a key: letters and digits together (a word or a number is a setting).
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")
_SECRET_SHAPE_MIN = 8

# HYPERSCAN triggers (no look-arounds): a credential element's opening tag; a lower-case credential
# directive followed by a blank at a line's start; a .pgpass line's port field and three more colons.
ELEMENT_TRIGGER = rf"<(?:[A-Za-z0-9_.-]+:)?[A-Za-z0-9_.-]*(?:{CREDENTIAL_NAMES})>"
DIRECTIVE_TRIGGER = rf"(?:^|\n)[ \t]*[a-z_-]*(?:{CREDENTIAL_NAMES}|auth)[ \t]+[^\s=:]"
PGPASS_TRIGGER = r":(?:\d{1,5}|\*):[^\s:]+:[^\s:]+:[^\s:]"

# A password given on a command line, as a process list or a shell's trace shows it: a long option that
# names one, then a space ("--password s3cret", "--bindpw ..."), or the LDAP tools' bind password "-w"
# (the same flag means "words" or "wait" to other commands, so only after an LDAP tool's name).
_OPTION_VALUE = r"(?P<value>[^\s\-'\"][^\s'\"]{3,}|'[^'\n]{4,}'|\"[^\"\n]{4,}\")"
_LONG_OPTIONS = r"[ \t]--(?:password|passwd|pass|bindpw|bind-password|secret|token)"
_LDAP_TOOLS = r"ldap(?:search|modify|add|delete|passwd|whoami|compare|modrdn|exop)"
OPTION = re.compile(rf"(?:{_LONG_OPTIONS}|\b{_LDAP_TOOLS}\b[^\n]*?[ \t]-w)[ \t]+{_OPTION_VALUE}")
OPTION_TRIGGER = rf"{_LONG_OPTIONS}[ \t]+[^\s-]|{_LDAP_TOOLS}[^\n]*[ \t]-w[ \t]+[^\s]"
# A basic-auth pair: a user name (an account or an e-mail address), a colon, a printable password.
_USER_PASSWORD = re.compile(r"[\w.@+-]{1,64}:[!-~][ -~]{3,}", re.ASCII)
_CREDENTIAL_WORD = re.compile(rf"(?i){CREDENTIAL_NAMES}|\bauth\b")


def _key_like(value: str) -> bool:
    return len(value) >= _SECRET_SHAPE_MIN and bool(_LETTER.search(value)) and bool(_DIGIT.search(value))


def value_span(m: re.Match[str]) -> tuple[int, int] | None:
    """(start, end) of the credential in a match of ``ELEMENT``, ``DIRECTIVE``, ``OPTION`` or ``PGPASS``,
    or None (a quoted option's value without its quotes)."""
    if m.re is OPTION:
        quoted = m.group("value")[0] in "'\""
        return m.start("value") + quoted, m.end("value") - quoted
    value = m.group("value").strip()
    # An element or a .pgpass field is named as a password: any value but a placeholder counts; a bare
    # directive line ("password expired") only when its value looks like a key.
    if m.re is DIRECTIVE and not _key_like(value):
        return None
    return m.start("value"), m.start("value") + len(value)


def private_key_named(before: str) -> bool:
    """Whether the assignment that ends `before` (the text before its value) names a private key (a
    WireGuard ``PrivateKey = …``, a ``"private_key": "…"``): its value is key material."""
    return _PRIVATE_KEY_NAME.search(before) is not None


def _decoded(token: str) -> str | None:
    """The text a base64 (standard or URL-safe) token decodes to, or None when it is no such text."""
    try:
        url_safe = "-" in token or "_" in token
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_" if url_safe else None)
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def encoded_kind(token: str) -> str | None:
    """What a random-looking base64 token is by what it decodes to: "SECRET" for a ``user:password`` pair,
    "" for content (a JSON document that names no credential), None for neither."""
    text = _decoded(token)
    if text is None or not text.isprintable():
        return None
    if _USER_PASSWORD.fullmatch(text):
        return "SECRET"
    if text[:1] in "{[" and not _CREDENTIAL_WORD.search(text):
        try:
            json.loads(text)
        except ValueError:
            return None
        return ""
    return None
