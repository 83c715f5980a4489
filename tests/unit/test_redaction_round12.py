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
        # A card number in two halves of eight, or glued into a key by underscores.
        ("CREDIT_CARD", "45320151 12830366", "pan   45320151 12830366\nexp   11/2029"),
        ("CREDIT_CARD", "5425_2334_3010_9903", "wrote blob card_5425_2334_3010_9903.json"),
        # An e-mail address percent-encoded in a query, or disguised with [at] and (dot).
        ("EMAIL", "jan.de.boer%40example.org", "GET /find?mail=jan.de.boer%40example.org&page=2"),
        ("EMAIL", "o.lund%2Btest%40mail.example.se", "next=%2Fcb%3Fto%3Do.lund%2Btest%40mail.example.se"),
        (
            "EMAIL",
            "olga.p (at) mail (dot) example (dot) ru",
            "reach me: olga.p (at) mail (dot) example (dot) ru",
        ),
        # An identity label written without its diacritics, as a JSON key.
        ("SSN", "01010012356", '{"fodselsnummer": "01010012356", "aar": 2024}'),
        # A label qualified by one word before its colon; Portugal's NIF.
        ("SSN", "123456789", "Fatura 12 | NIF cliente: 123456789 | Total 9,90"),
        # A Japanese Individual Number after a bracketed gloss.
        ("SSN", "1234 5678 9018", "個人番号\uff08マイナンバー\uff09: 1234 5678 9018"),
        # An ETSI semantics identifier: PNO, the country, the personal number.
        ("SSN", "38001085718", "cert subject serialNumber=PNOEE-38001085718, CN=TAMM"),
        # A number in five dotted pairs (French, Belgian), Mexico's old mobile "1", an MSISDN key.
        ("PHONE", "07.12.45.78.90", "rappeler le 07.12.45.78.90 demain"),
        ("PHONE", "+52 1 33 1234 5678", "whatsapp_contacto -> +52 1 33 1234 5678"),
        ("PHONE", "306912345678", '{"msisdn": "306912345678", "status": "ok"}'),
        # A national number of the region whose script is around it (a Chinese mobile number).
        ("PHONE", "139 1234 5678", "请致电 139 1234 5678 联系"),
        # HL7 v2: the patient's and the next of kin's XPN fields (family^given^middle).
        ("PERSON", "HALVORSEN^INGRID^M", "PID|1||778812^^^MRN||HALVORSEN^INGRID^M||19800101|F"),
        ("PERSON", "OSEI^KWAME", "NK1|1|OSEI^KWAME|BRO|12 HIGH ST"),
        # An LDAP common name written "Surname\\, Given".
        ("PERSON", "Moreau\\, Camille", "member: CN=Moreau\\, Camille,OU=Sales,DC=example,DC=com"),
        # git shortlog -sn: a count, a tab, the author.
        ("PERSON", "Søren Kierkegaard", "  41\tSøren Kierkegaard\n   3\trenovate[bot]\n"),
        # Name columns and keys in more languages; a hyphenated romanised given name.
        ("PERSON", "Lucia Verdi", "INSERT INTO soci (tessera, nominativo) VALUES ('T-9', 'Lucia Verdi')"),
        ("PERSON", "Phạm Minh Châu", '{"don": 7, "nguoi_nhan": "Phạm Minh Châu"}'),
        ("PERSON", "Xiao-Ming Wu", "maintainer: Xiao-Ming Wu"),
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
        # Eight-digit halves that fail the card checksum, and snake_case digit groups mixing separators.
        "range   45320151 12830367",
        "batch_4532_0151-1283_0366 done",
        # "[at]" in prose or code, a semantics identifier whose number fails its country's checksum.
        "meet me [at] home. Then lunch",
        "grid[at] index 3",
        "serialNumber=PNOEE-38001085719",
        # A two-letter abbreviation ("RC") is no label once its diacritic is gone; "in" is no label.
        "rc: 9001010007 build in 123456789018",
        # Dotted pairs of four (a date, a version) and a Han text's separated digits that are no number.
        "released 12.05.2024, schema 10.20.30.40.50",
        "版本 100 2000 3000 已发布",
        # An HL7 segment whose name field holds codes, a group's common name, a count before a word.
        "PID|1||778812^^^MRN||^^||19800101|F",
        "dn: CN=vpn-users,OU=Groups,DC=example,DC=com",
        "  12\tFailed\n   3\tPassed",
        "owner: Self-Hosting Guide",
    ],
)
def test_round12_lookalikes_are_left(text: str) -> None:
    assert _redacted(text) == text


def test_private_address_outside_a_listing_is_still_redacted() -> None:
    assert "10.20.30.40" not in _redacted("login from 10.20.30.40 accepted")
