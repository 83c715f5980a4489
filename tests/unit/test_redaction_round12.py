"""Layer 5's mechanisms added while tuning on round 12's corpus: own examples per mechanism, and
look-alikes that must stay unchanged."""

import re

import pytest

from level5.safety.redaction import Redactor

REDACTOR = Redactor(b"test-round12")


def _redacted(text: str) -> str:
    return REDACTOR.redact(text).text


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        # An IPv4 address written as an IPv4-mapped IPv6 address: the prefix goes with it.
        ("IP_ADDRESS", "::ffff:93.184.216.34", "peer=::ffff:93.184.216.34 port=443"),
        # A password as an XML element, a directive line, or a .pgpass line's last field.
        ("SECRET", "Vq9#mT2!xLp", "<settings><pass>Vq9#mT2!xLp</pass></settings>"),
        ("SECRET", "Zr8uQ1wE7yTp", "daemonize yes\nmasterauth Zr8uQ1wE7yTp\n"),
        ("SECRET", "n0tS0S3cret%", "*:6432:billing:reporter:n0tS0S3cret%"),
        # A base64 token that decodes to user:password (a registry or Basic credential).
        ("SECRET", "ZGVwbG95ZXI6a1E3I3BMMnZYOXc=", '{"auth": "ZGVwbG95ZXI6a1E3I3BMMnZYOXc="}'),
        # A key named as a private key holds key material.
        (
            "PRIVATE_KEY",
            "kG3vX8pQ1mZ7rT2wY5nB9cD4fH6jL0sA2eU8iO3yR1k=",
            "PrivateKey = kG3vX8pQ1mZ7rT2wY5nB9cD4fH6jL0sA2eU8iO3yR1k=",
        ),
    ],
)
def test_round12_values_are_redacted(kind: str, value: str, text: str) -> None:
    out = _redacted(text)
    assert f"[{kind}:" in out, out
    assert value not in out
    assert not [word for word in re.findall(r"\w{3,}", value) if re.search(rf"\b{word}\b", out)], out


@pytest.mark.parametrize(
    "text",
    [
        # Loopback and unspecified addresses, the same on every machine.
        "listening on 0.0.0.0:8000 and [::]:8000, health on 127.0.0.1:9000",
        "bind_address = 0.0.0.0",
        # Private addresses in the cells of a column-aligned listing.
        "NAME      IP             NODE\nweb-1     172.17.0.4     node-a\ndb-0      192.168.49.2   node-b",
        # A directive with a word for value, a .pgpass-like line with "*", an element without a value.
        "password required\nrequirepass  \n",
        "db:5432:app:app:*",
        "<password></password>",
        # Base64 content: a data: URI's payload, and a JSON document naming no credential.
        "src=data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7",
        "settings: eyJ0aGVtZSI6ImRhcmsiLCJwYWdlX3NpemUiOjUwLCJiZXRhIjp0cnVlfQ==",
    ],
)
def test_round12_lookalikes_are_left(text: str) -> None:
    assert _redacted(text) == text


def test_private_address_outside_a_listing_is_still_redacted() -> None:
    assert "10.20.30.40" not in _redacted("login from 10.20.30.40 accepted")
