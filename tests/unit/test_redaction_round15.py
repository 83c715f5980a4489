"""Layer 5's mechanisms added while tuning on round 15's corpus (names and addresses by the carrier that
prints them and by their locale's conventions, and the smaller kinds): own examples per mechanism, and
look-alikes that must stay unchanged."""

import re

import pytest

from level5.safety.redaction import Redactor

REDACT = Redactor(b"test-round15").redact

# Each mechanism with a text of its own: the kind, then the text with its value between « and ».
VALUES = [
    # EDIFACT: a NAD segment's street to country, a CTA segment's contact, a COM segment's number.
    "ADDRESS: UNH+1+ORDERS:D:96A:UN'\nNAD+ST+++Kallio Oy+«Mannerheimintie 12 B:rappu 4+Helsinki++00100+FI»'",
    "PERSON: BGM+220+PO1+9'\nCTA+IC+:«Ndiaye Okonkwo»'\nUNT+3+1'",
    "PHONE: CTA+IC'\nCOM+«0046701234567»:TE'\nUNT+3+1'",
    # A Malay name joined by "binti", an Indian Malaysian one by "a/p".
    "PERSON: Nama: «Siti Hajar binti Kamaruddin»\nJabatan: Kewangan",
    "PERSON: Name: «Kavitha a/p Raman»\nDept: Audit",
    # An Uzbek name closed by its patronymic word, under the F.I.O. column.
    "PERSON: № | F.I.O. | lavozim\n--|--|--\n1 | «Karimov Jasur Bahodir o\u2018g\u2018li» | hisobchi",
    # A subtitle cue's speaker on the line after its timing line.
    "PERSON: 12\n00:01:02,500 --> 00:01:04,000\n«PHẠM MINH TUẤN»: Xin chào mọi người.\n",
    # LINE's chat export: the sender between tabs after the time.
    "PERSON: 2026/01/05(月)\n09:12\t«ソムチャイ ウォン»\tおはようございます\n",
    # Credit in a changelog.
    "PERSON: - Faster startup. Kudos to «Bolat Temirkhanov» for the profiling.",
    # Persian "name of" an agent noun (the sender).
    "PERSON: نام فرستنده: «مهدی کاظمی»\nتاریخ: ۱۴۰۳/۰۱/۰۱",  # noqa: RUF001
    # Surnames that end like English suffixes: after a known given name, and Kazakh "-uly".
    "PERSON: Reviewer: «Ian Fleming»",
    "PERSON: Reviewer: «Nurlan Abayuly»",
    # A person's slug under a directory of people.
    "PERSON: GET /people/«daniela-rocha»/avatar.png 200",
    # Armenian street words after their label's Armenian comma; a Hebrew kibbutz; a Kazakh microdistrict.
    "ADDRESS: Հասցե՝ «ք. Վանաձոր, Տիգրան Մեծի պող. 21, բն. 4»\n",  # noqa: RUF001
    "ADDRESS: משלוח אל:\n«קיבוץ עין גב, בית 12»\n",
    "ADDRESS: доставка: «г. Шымкент, мкр. Нурсат, д. 3, кв. 77»\n",  # noqa: RUF001
    # A chain of administrative divisions: Vietnamese before their names, Uzbek after them.
    "ADDRESS: Giao tới: «Thôn Hạ, Xã Yên Lạc, Huyện Yên Sơn, Tỉnh Tuyên Quang» | SĐT sau",
    "ADDRESS: manzil: «Farg\u2018ona sh., Qo\u2018qon tumani, 8-uy»\n",
    # A floor and side field between the house number and the postcode; Portugal's 4-3 postcode.
    "ADDRESS: Levering: «Jægersborggade 41, 2. th., 2200 København N»",
    'ADDRESS: envio;"«Calçada do Combro, 12, 2.º Esq., 1200-115 Lisboa»";ok',
    # A quoted local part; a VERP bounce address's encoded recipient.
    'EMAIL: RCPT TO:<«"lee..ann"@example.net»> 550 rejected',
    "EMAIL: Return-Path: <list-bounces+«joao.pinto=example.com»@lists.mailhost.org>",
    # A password on a command line: a long option, and the LDAP tools' "-w"; a Wi-Fi pre-shared key.
    "SECRET: 311 pg_dump --host db --password «Qx7!mR2pZ» app",
    "SECRET: ldapmodify -x -D cn=admin,dc=example,dc=org -w «u8#Lr2Vq9» -f change.ldif",
    "SECRET: wifi.psk: «T4k3-Th1s-K3y»",
    # Identity numbers named by their own labels: New Zealand's IRD number, Austria's SV-Nummer.
    "SSN: IRD number: «049-091-850»",
    "SSN: SV-Nummer «1237 010180»",
    # Slack's app-level token; a private key's DER in base64 without PEM lines.
    "SLACK_TOKEN: SLACK_APP=«xapp-1-A0B1C2D3E4F-1234567890123-0a1b2c3d4e5f60718293a4b5c6d7e8f9»",
    "PRIVATE_KEY: KEY_B64=«MC4CAQAwBQYDK2VwBCIEIHq8cP0mN3kR5tW1yZ7aB9dE2fG4hJ6kL8nQ0sU3vX5z»",
]


def _case(row: str) -> tuple[str, str, str]:
    """A row as its kind, its text without the marks, and the value between them."""
    kind, text = row.split(": ", 1)
    before, value, after = re.split("[«»]", text)
    return kind, before + value + after, value


@pytest.mark.parametrize(("kind", "text", "value"), [_case(row) for row in VALUES])
def test_round15_values_are_redacted(kind: str, text: str, value: str) -> None:
    out = REDACT(text).text
    kept = set(re.findall(r"\w+", out)) & set(re.findall(r"\w{3,}", value))
    assert f"[{kind}:" in out and value not in out and not kept, out


def test_a_line_speaker_ends_at_the_tab_before_the_message() -> None:
    out = REDACT("2026/01/05\n10:30\tสมศรี มีสุข\tถึงแล้วค่ะ\n").text
    assert out.endswith("\tถึงแล้วค่ะ\n") and "[PERSON:" in out, out


# Look-alikes of each mechanism that must stay as they are.
LOOK_ALIKES = [
    # Prose after Vietnamese and Uzbek division words, and two house numbers alone.
    "Quận 1 có nhiều quán cà phê, tỉnh này thì không",
    "see 5-uy, 6-uy in the plan",
    # A legal act's number, a date's year before a street word, a product's version after its name.
    "Directive (EU) 2019/1937 applies from 17 December 2021",
    "Hearing on 3 March 2026, Court 2",
    'PRETTY_NAME="Debian GNU 12.5"',
    # An institution under a name key; a thing's name key.
    '{"name": "Spitalul Clinic Județean Mureș"}',
    "form.street_name=Nome da via",
    # "Thanks to" followed by a thing in lower case.
    "Thanks to the new cache, builds take half the time.",
    # "-w" outside an LDAP tool; a password option whose value is a variable.
    "grep -w needle haystack.txt",
    'mysql --password "$DB_PASSWORD" app',
    # A slug that opens with no given name.
    "GET /team/platform-infra/logo.svg 200",
]


def test_round15_look_alikes_are_unchanged() -> None:
    assert [text for text in LOOK_ALIKES if REDACT(text).text != text] == []
