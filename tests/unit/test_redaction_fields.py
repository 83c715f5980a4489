"""Layer 5's values under keys (fields.py) and letter heads (letters.py): own examples per mechanism, and
look-alikes that must stay unchanged."""

import pytest

from level5.safety.redaction import Redactor

REDACTOR = Redactor(b"test-fields")


def _redacted(text: str) -> str:
    return REDACTOR.redact(text).text


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        # A CSV column under a native header: the address, the identity number (a CNP that also passes
        # Luhn: the header says what it is), the Austrian SV-Nummer.
        (
            "ADDRESS",
            "Strada Lungă 12, Brașov, 500035",
            'nr;Nume;Adresă;Oraș\n7;Ion Pop;"Strada Lungă 12, Brașov, 500035";x\n',
        ),
        (
            "ADDRESS",
            "Бул. Илинден 41, 1000 Скопје",
            "id,Име,Адреса,Забелешка\n3,Марко,Бул. Илинден 41, 1000 Скопје,-\n",
        ),
        ("SSN", "1800101221144", "id,Nume,CNP,Oraș\n1,Ana,1800101221144,Cluj\n"),
        ("SSN", "1237010180", "id,Name,SV-Nummer,Ort\n1,Eva,1237010180,Graz\n"),
        # A logfmt or JSON key, quoted.
        (
            "ADDRESS",
            "Rua das Flores 7, 4050-262 Porto",
            'level=info addr="Rua das Flores 7, 4050-262 Porto" ok=1',
        ),
        ("ADDRESS", "Via Roma 3, 20121 Milano", '{"indirizzo": "Via Roma 3, 20121 Milano", "ok": true}'),
        ("SSN", "1237010180", 'msg=saved ssn="1237010180" region=AT'),
        # A form line, the phone as a national digit run under a native label.
        ("PHONE", "0912345678", "Meno: Eva Nová\nTelefón: 0912345678\n"),
        ("PHONE", "0401234567", "Puhelin 0401234567\n"),
        ("PHONE", "070 123 456", "Телефон: 070 123 456\n"),
        ("ADDRESS", "Hlavná 5, 040 01 Košice", "Adresa: Hlavná 5, 040 01 Košice\nTelefón: 0912345678\n"),
        # An address that goes on over the next short lines, or starts below a heading key.
        ("ADDRESS", "Flat 4\nHarbour Row\nPL1 2AB", "Address: Flat 4\nHarbour Row\nPL1 2AB\n"),
        ("ADDRESS", "Calle Mayor 8\n28013 Madrid", "Ship to:\nCalle Mayor 8\n28013 Madrid\n"),
        # A phrase in prose: the address ends with its sentence.
        ("ADDRESS", "Kauppakatu 4, 40100 Jyväskylä", "Please ship to Kauppakatu 4, 40100 Jyväskylä. Thanks!"),
        ("PHONE", "33912345678", "You can reach me on 33912345678 after six."),
        # A card scheme the unlabelled detector leaves out (a 16-digit number starting with 9), labelled.
        ("CREDIT_CARD", "9804000000000009", "Номер картки: 9804000000000009\n"),
        ("CREDIT_CARD", "9804000000000009", 'credit_card="9804000000000009"'),
    ],
)
def test_values_under_keys(kind: str, value: str, text: str) -> None:
    out = _redacted(text)
    assert value not in out
    assert f"[{kind}:" in out


def test_address_label_stops_at_the_next_field() -> None:
    out = _redacted("Adresa: Hlavná 5, 040 01 Košice\nTelefón: 0912345678\nE-mail: eva@example.org\n")
    assert "Telefón: [PHONE:" in out
    assert "Adresa: [ADDRESS:" in out


def test_recipient_name_on_the_ship_to_line_stays_a_name() -> None:
    out = _redacted("SHIP TO: Anna Nowak\nul. Długa 5\n80-831 Gdańsk\n")
    assert "ul. Długa 5" not in out
    assert "Anna Nowak" not in out


def test_letter_head_name_address_and_salutation() -> None:
    text = "Tereza Dvořáková\nNa Příkopě 12\n110 00 Praha 1\n\nVážená paní Tereza,\nyour order has shipped.\n"
    out = _redacted(text)
    for value in ("Tereza", "Dvořáková", "Na Příkopě 12", "110 00 Praha 1"):
        assert value not in out, out
    assert "[PERSON:" in out and "[ADDRESS:" in out


def test_letter_head_in_a_script_without_latin_letters() -> None:
    out = _redacted("Олена Коваль\nвул. Садова 3\n01001 Київ\n\nШановна Олено,\n")
    assert "Олена Коваль" not in out and "Садова" not in out


@pytest.mark.parametrize(
    "text",
    [
        # Blocks shaped like a letter head that are not one: no salutation, a field, no digit.
        "Release Notes\nVersion 2 of the tool\nBuild 118\n\nSee below for details.\n",
        "Build Report\nstatus: ok\nsteps 12\n\nHello team,\n",
        "Project Atlas\nNorth Wing\nEast Gate\n\nDear all,\n",
        # Keys whose values are not of their kind: an order id under "address" is no address; a phone key
        # before a version; a card key before a short number or an id with letters.
        'addr="0x7ffd5e8c" level=debug',
        "telefon_model: X200 v2.1\n",
        "card: 4 of 52 drawn\n",
        "card_id=ORD-2024-000123\n",
        # A CSV whose address-like column holds codes, coordinates and versions.
        "sku,Address,version\nA-100,0x1F,1.2.3\nB-200,0x2A,1.2.4\n",
        "id,Telefon,Note\n1,n/a,none\n2,unknown,-\n",
    ],
)
def test_look_alikes_under_keys_are_left_alone(text: str) -> None:
    assert _redacted(text) == text


def test_keys_inside_placeholders_and_words_are_not_keys() -> None:
    once = _redacted("hotel 12345678, ip 192.168.0.1, addr: Via Roma 3, 20121 Milano")
    assert _redacted(once) == once
    assert "hotel 12345678" in once
